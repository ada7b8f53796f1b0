// The parameters of conv2d_backward_weight (see kernels/conv2d_backward_weight.wgsl for the maths,
// the chunks and the flags), shared by its variants. Included with
// `//! include lib_conv2d_backward_weight_params`.

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
  rows: u32,       // B * OH * OW
  chunk: u32,      // output positions per chunk
  n_w: u32,        // kh * kw * Cin * Cout
  flags: u32,      // 1 bias gradient, 2 direct (one chunk: write dw, dbias), 4 accumulate (direct only)
}

@group(0) @binding(0) var<uniform> params: Params;
