// Operands of the tiled conv1d_backward_weight (see kernels/conv1d_backward_weight.wgsl for the
// maths), shared by its wide and narrow tile variants: x, dy and y as scalars.
// Included with `//! include lib_conv1d_backward_weight_operands`.

//! include lib_conv1d_backward_weight_epilogue

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;

fn load_a(wrow: u32, n: u32) -> f32 {
  let cin = params.cin;
  let kc = params.taps * cin;
  if (wrow > kc || n >= params.rows) { return 0.0; }
  if (wrow == kc) { return 1.0; }
  let b = n / params.T;
  let t = i32(n % params.T);
  let k = wrow / cin;
  let ci = wrow % cin;
  let ts = t + i32(k * params.dilation) + params.offset;
  if (ts < 0 || ts >= i32(params.T)) { return 0.0; }
  var v = x[(b * params.T + u32(ts)) * cin + ci];
  if ((params.flags & 1u) != 0u) { v = max(v, 0.0); }
  return v;
}

fn load_g(n: u32, co: u32) -> f32 {
  if (co >= params.cout) { return 0.0; }
  let o = n * params.cout + co;
  var g = dy[o];
  if ((params.flags & 2u) != 0u && y[o] <= 0.0) { g = 0.0; }
  return g;
}

fn load_b4(n: u32, co: u32) -> vec4<f32> {
  if (n >= params.rows) { return vec4<f32>(); }
  return vec4<f32>(load_g(n, co), load_g(n, co + 1u), load_g(n, co + 2u), load_g(n, co + 3u));
}
