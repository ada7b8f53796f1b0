// Adds the chunks of conv2d_backward_weight: with n_w = kh*kw*Cin*Cout weights and Cout biases,
// each chunk's row of part being n_w + Cout long,
//   dw[k]     (+)= sum_z part[z, k]          for k < n_w
//   dbias[co] (+)= sum_z part[z, n_w + co]   for co < Cout (when the conv has a bias)

struct Params {
  n_w: u32,        // kh * kw * Cin * Cout
  cout: u32,
  chunks: u32,
  flags: u32,      // 1 bias gradient, 4 accumulate into dw and dbias (the bits of conv2d_backward_weight)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let has_bias = (params.flags & 1u) != 0u;
  let accumulate = (params.flags & 4u) != 0u;
  let stride = params.n_w + params.cout;
  let n = params.n_w + select(0u, params.cout, has_bias);
  for (var k = gid.x; k < n; k += nwg.x * 256u) {
    var s = 0.0;
    for (var z = 0u; z < params.chunks; z++) { s += part[z * stride + k]; }
    if (k < params.n_w) {
      if (accumulate) { s += dw[k]; }
      dw[k] = s;
    } else {
      let co = k - params.n_w;
      if (accumulate) { s += dbias[co]; }
      dbias[co] = s;
    }
  }
}
