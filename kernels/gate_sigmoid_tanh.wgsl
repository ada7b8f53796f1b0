// The WaveNet gate in Magenta's order: out[n, c] = sigmoid(x[n, c]) * tanh(x[n, C + c]),
// x is [N, 2C] (first half gates, second half is the filter), out is [N, C].

struct Params { n: u32, channels: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

//! include lib_activations

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = params.n * params.channels;
  for (var i = gid.x; i < total; i += nwg.x * 256u) {
    let row = i / params.channels;
    let c = i % params.channels;
    let base = row * 2u * params.channels;
    out[i] = sigmoid(x[base + c]) * tanh_safe(x[base + params.channels + c]);
  }
}
