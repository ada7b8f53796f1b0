// 1-D convolution with K taps at dilation d over time-major activations, as a tiled matmul:
//   y[b, t, co] = bias[co] + fbias[b, t / frame_len, co] + sum_{k, ci} x[b, t + k*d + offset, ci] * W[k, ci, co]
// x is [B, T, Cin], W is Magenta's [1, K, Cin, Cout] flattened as (k*Cin + ci)*Cout + co, y is [B, T, Cout].
// Reads outside [0, T) are zero: offset = -2d gives the causal taps (t-2d, t-d, t), offset = -d the
// centred ones (t-d, t, t+d), offset = -2d-1 the causal taps of a shift_right'ed input. K = 1 is a
// 1x1 conv (a matmul). Optional: ReLU on the input, ReLU on the output, accumulate into y (residual
// and skip sums), add a residual input out of place (y = resid + conv(x), when the old value must
// be kept for a backward pass), a per-frame bias (the upsampled conditioning, fused instead of materialised).
// The wide 64 x 128 tile; conv1d_narrow is the same with 128 x 32 tiles.

//! include lib_conv1d_operands
//! include lib_matmul_tile

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  tile_matmul(wg.y * TM, wg.x * TN, 0u, params.taps * params.cin, lid);
}
