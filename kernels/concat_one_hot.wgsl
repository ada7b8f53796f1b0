// Concatenates a one-hot class per batch item to every frame (the paper's optional pitch
// conditioning): out[b, f, c] = x[b, f, c] for c < C, and [c - C == cls[b]] for C <= c < C + classes.
// x is [B, F, C], cls is [B], out is [B, F, C + classes]. Training with embedding dropout marks an
// item by bit 31 of its class (EMBEDDING_DROPPED in src/ops/concat-one-hot.ts): its x channels are
// zeros, so the decoder has only the pitch to go on; the class is then the lower 31 bits.

struct Params { frames: u32, channels: u32, classes: u32, total: u32, }

const DROPPED: u32 = 0x80000000u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> cls: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let width = params.channels + params.classes;
  for (var i = gid.x; i < params.total; i += nwg.x * 256u) {
    let c = i % width;
    let bf = i / width;
    let k = cls[bf / params.frames];
    if (c < params.channels) {
      out[i] = select(x[bf * params.channels + c], 0.0, (k & DROPPED) != 0u);
    } else {
      out[i] = select(0.0, 1.0, c - params.channels == (k & ~DROPPED));
    }
  }
}
