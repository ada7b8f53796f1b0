// The parameters of conv2d_backward_input (see kernels/conv2d_backward_input.wgsl for the maths),
// shared by its variants. Included with `//! include lib_conv2d_backward_input_params`.

struct Params {
  H: u32,
  W: u32,
  cin: u32,
  OH: u32,
  OW: u32,
  cout: u32,
  kh: u32,
  kw: u32,
  sh: u32,
  sw: u32,
  pad_top: u32,
  pad_left: u32,
  B: u32,
  accumulate: u32, // 1 adds into dx
}

@group(0) @binding(0) var<uniform> params: Params;
