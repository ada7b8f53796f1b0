// The parameters and output of conv1d_backward_weight (see kernels/conv1d_backward_weight.wgsl for
// the maths): store(wrow, co, acc) writes one partial sum of time chunk `chunk_index`. Shared by
// every variant; the includer declares x (binding 1), dy (binding 2) and y (binding 3).
// Included with `//! include lib_conv1d_backward_weight_epilogue`.

struct Params {
  T: u32,
  rows: u32,       // B * T, the reduction length
  cin: u32,
  cout: u32,
  taps: u32,
  dilation: u32,
  offset: i32,     // the forward pass's time offset of tap 0
  flags: u32,      // 1 forward relu_in, 2 mask dy by y > 0 (forward relu_out)
  chunk: u32,      // reduction rows per chunk (a multiple of 16)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read_write> part: array<f32>;

var<private> chunk_index: u32;

fn store(wrow: u32, co: u32, acc: f32) {
  let wrows = params.taps * params.cin + 1u;
  if (wrow >= wrows || co >= params.cout) { return; }
  part[(chunk_index * wrows + wrow) * params.cout + co] = acc;
}
