// The parameters of conv2d (see kernels/conv2d.wgsl for the maths), shared by its variants (conv2d,
// conv2d_lanes). Included with `//! include lib_conv2d_params`.

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
  pixels: u32,     // B * OH * OW
  flags: u32,      // 1 add bias, 2 accumulate into y
}

@group(0) @binding(0) var<uniform> params: Params;
