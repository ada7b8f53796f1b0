// Gradient of conv1d with respect to its input, as the transposed convolution:
//   dx[b, s, ci] (+)= m_x(b, s, ci) * sum_{k, co} g[b, s - k*d - offset, co] * W[k, ci, co]
// with g = dy, masked by y > 0 where the forward pass applied ReLU to its output, and m_x = x > 0
// where it applied ReLU to its input (else 1). Reads outside [0, T) are zero, which mirrors the
// forward pass's zero padding: causal taps turn anti-causal here. dy and y are [B, T, Cout],
// x and dx [B, T, Cin], W Magenta's [1, K, Cin, Cout]. Rows are (b, s), columns ci, and the
// reduction runs over (k, co), so W is read transposed.
// The wide 64 x 128 tile; conv1d_backward_input_narrow is the same with 128 x 32 tiles.

//! include lib_conv1d_backward_input_operands
//! include lib_matmul_tile

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  tile_matmul(wg.y * TM, wg.x * TN, 0u, params.taps * params.cout, lid);
}
