// Gradient of conv1d with respect to its weights and bias, split over time into partial sums:
//   part[z, k*Cin + ci, co] = sum_{n in chunk z} relu?(x[b, t + k*d + offset, ci]) * g[b, t, co]
//   part[z, K*Cin, co]      = sum_{n in chunk z} g[b, t, co]          (the bias row: x taken as 1)
// over n = b*T + t, with g = dy masked by y > 0 where the forward pass applied ReLU to its output.
// Rows are weight rows (k, ci) plus the bias row, columns co, the reduction runs over time.
// conv1d_backward_weight_sum adds the chunks into dW and dbias; chunks give a GPU enough
// workgroups when Cin x Cout is small and the sequence long.
// The wide 64 x 128 tile; conv1d_backward_weight_narrow is the same with 128 x 32 tiles.

//! include lib_conv1d_backward_weight_operands
//! include lib_matmul_tile

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  chunk_index = wg.z;
  let begin = wg.z * params.chunk;
  let end = min(params.rows, begin + params.chunk);
  tile_matmul(wg.y * TM, wg.x * TN, begin, end, lid);
}
