// Adds the time chunks of conv1d_backward_weight: with n = K*Cin*Cout weights and Cout biases,
//   dW[i]    (+)= sum_z part[z, i]        for i < n
//   dbias[j] (+)= sum_z part[z, n + j]    for j < Cout (when the conv has a bias)

struct Params {
  n_w: u32,        // K * Cin * Cout
  n_b: u32,        // Cout
  chunks: u32,
  flags: u32,      // 1 accumulate into dW, 2 accumulate into dbias, 4 write dbias
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> dW: array<f32>;
@group(0) @binding(3) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let per_chunk = params.n_w + params.n_b;
  for (var i = gid.x; i < per_chunk; i += nwg.x * 256u) {
    var s = 0.0;
    for (var z = 0u; z < params.chunks; z++) { s += part[z * per_chunk + i]; }
    if (i < params.n_w) {
      if ((params.flags & 1u) != 0u) { s += dW[i]; }
      dW[i] = s;
    } else if ((params.flags & 4u) != 0u) {
      let j = i - params.n_w;
      if ((params.flags & 2u) != 0u) { s += dbias[j]; }
      dbias[j] = s;
    }
  }
}
