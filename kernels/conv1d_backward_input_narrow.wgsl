// conv1d_backward_input with the narrow 128 x 32 tile (see kernels/conv1d_backward_input.wgsl): chosen by the host
// wrapper when the output has few columns.

//! include lib_conv1d_backward_input_operands
//! include lib_matmul_tile_narrow

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  tile_matmul(wg.y * TM, wg.x * TN, 0u, params.taps * params.cout, lid);
}
