// The backward pass of concat_one_hot for its x: out[b, f, c] (+)= g[b, f, c] for c < C, g rows of
// C + classes channels; zero for an item whose embedding the forward pass dropped (bit 31 of its
// class: nothing of the gradient reaches an embedding the decoder never saw).

struct Params { frames: u32, channels: u32, classes: u32, total: u32, accumulate: u32, }

const DROPPED: u32 = 0x80000000u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> cls: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let C = params.channels;
  for (var i = gid.x; i < params.total; i += nwg.x * 256u) {
    let bf = i / C;
    let c = i % C;
    var v = select(g[bf * (C + params.classes) + c], 0.0, (cls[bf / params.frames] & DROPPED) != 0u);
    if (params.accumulate != 0u) { v += out[i]; }
    out[i] = v;
  }
}
