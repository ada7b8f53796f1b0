// Operands and epilogue of conv1d_backward_weight (see kernels/conv1d_backward_weight.wgsl for the maths), shared by
// its
// wide and narrow tile variants. Included with `//! include lib_conv1d_backward_weight_operands`.

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
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> part: array<f32>;


var<private> chunk_index: u32;

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

fn store(wrow: u32, co: u32, acc: f32) {
  let wrows = params.taps * params.cin + 1u;
  if (wrow >= wrows || co >= params.cout) { return; }
  part[(chunk_index * wrows + wrow) * params.cout + co] = acc;
}
