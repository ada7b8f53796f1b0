// Concatenates a one-hot class per batch item to every frame (the paper's optional pitch
// conditioning): out[b, f, c] = x[b, f, c] for c < C, and [c - C == cls[b]] for C <= c < C + classes.
// x is [B, F, C], cls is [B], out is [B, F, C + classes].

struct Params { frames: u32, channels: u32, classes: u32, total: u32, }

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
    if (c < params.channels) {
      out[i] = x[bf * params.channels + c];
    } else {
      out[i] = select(0.0, 1.0, c - params.channels == cls[bf / params.frames]);
    }
  }
}
