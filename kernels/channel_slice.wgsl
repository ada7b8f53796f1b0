// Copies a run of channels: out[r, c] (+)= x[r, offset + c] for c < C_out, x rows of C_in channels.
// The backward pass of concatenation (the gradient of the embedding inside [embedding | one-hot]).

struct Params { rows: u32, in_channels: u32, out_channels: u32, offset: u32, accumulate: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = params.rows * params.out_channels;
  for (var i = gid.x; i < total; i += nwg.x * 256u) {
    let r = i / params.out_channels;
    let c = i % params.out_channels;
    var v = x[r * params.in_channels + params.offset + c];
    if (params.accumulate != 0u) { v += out[i]; }
    out[i] = v;
  }
}
