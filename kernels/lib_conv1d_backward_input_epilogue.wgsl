// The parameters and epilogue of conv1d_backward_input (see kernels/conv1d_backward_input.wgsl for
// the maths): the input-ReLU mask and accumulation, applied per element by store(row, ci, acc).
// Shared by every variant; the includer declares dy (binding 1), W (binding 2) and y (binding 4).
// Included with `//! include lib_conv1d_backward_input_epilogue`.

struct Params {
  T: u32,
  rows: u32,       // B * T
  cin: u32,
  cout: u32,
  taps: u32,
  dilation: u32,
  offset: i32,     // the forward pass's time offset of tap 0
  flags: u32,      // 1 mask by x > 0 (forward relu_in), 2 mask dy by y > 0 (forward relu_out), 4 accumulate
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

fn store(row: u32, ci: u32, acc: f32) {
  if (row >= params.rows || ci >= params.cin) { return; }
  let o = row * params.cin + ci;
  var v = acc;
  if ((params.flags & 1u) != 0u && x[o] <= 0.0) { v = 0.0; }
  if ((params.flags & 4u) != 0u) { v += dx[o]; }
  dx[o] = v;
}
