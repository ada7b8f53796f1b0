// Operands of the tiled conv1d_backward_input (see kernels/conv1d_backward_input.wgsl for the
// maths), shared by its wide and narrow tile variants: dy, y and W as scalars.
// Included with `//! include lib_conv1d_backward_input_operands`.

//! include lib_conv1d_backward_input_epilogue

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(4) var<storage, read> y: array<f32>;

fn load_a(row: u32, r: u32) -> f32 {
  let cout = params.cout;
  if (row >= params.rows || r >= params.taps * cout) { return 0.0; }
  let b = row / params.T;
  let s = i32(row % params.T);
  let k = r / cout;
  let co = r % cout;
  let t = s - i32(k * params.dilation) - params.offset;
  if (t < 0 || t >= i32(params.T)) { return 0.0; }
  let o = (b * params.T + u32(t)) * cout + co;
  var g = dy[o];
  if ((params.flags & 2u) != 0u && y[o] <= 0.0) { g = 0.0; }
  return g;
}

fn load_w(r: u32, ci: u32) -> f32 {
  if (ci >= params.cin) { return 0.0; }
  let k = r / params.cout;
  let co = r % params.cout;
  return W[(k * params.cin + ci) * params.cout + co];
}

fn load_b4(r: u32, ci: u32) -> vec4<f32> {
  if (r >= params.taps * params.cout) { return vec4<f32>(); }
  return vec4<f32>(load_w(r, ci), load_w(r, ci + 1u), load_w(r, ci + 2u), load_w(r, ci + 3u));
}
