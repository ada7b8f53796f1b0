// Operands and epilogue of conv1d (see kernels/conv1d.wgsl for the maths), shared by its
// wide and narrow tile variants. Included with `//! include lib_conv1d_operands`.

struct Params {
  T: u32,          // time steps per batch item
  rows: u32,       // B * T
  cin: u32,
  cout: u32,
  taps: u32,       // K
  dilation: u32,
  offset: i32,     // time offset of tap 0
  flags: u32,      // 1 relu_in, 2 relu_out, 4 accumulate, 8 bias, 16 frame bias, 32 residual input
  frame_len: u32,  // samples per conditioning frame (512)
  frames: u32,     // frames per batch item
  fb_stride: u32,  // floats per frame row in fbias
  fb_offset: u32,  // first float of this layer's slice in a frame row
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> fbias: array<f32>;
@group(0) @binding(5) var<storage, read> resid: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;


fn load_a(row: u32, r: u32) -> f32 {
  let cin = params.cin;
  if (row >= params.rows || r >= params.taps * cin) { return 0.0; }
  let b = row / params.T;
  let t = i32(row % params.T);
  let k = r / cin;
  let ci = r % cin;
  let ts = t + i32(k * params.dilation) + params.offset;
  if (ts < 0 || ts >= i32(params.T)) { return 0.0; }
  var v = x[(b * params.T + u32(ts)) * cin + ci];
  if ((params.flags & 1u) != 0u) { v = max(v, 0.0); }
  return v;
}

fn load_w(r: u32, co: u32) -> f32 {
  if (co >= params.cout) { return 0.0; }
  return W[r * params.cout + co];
}

fn load_b4(r: u32, co: u32) -> vec4<f32> {
  if (r >= params.taps * params.cin) { return vec4<f32>(); }
  if (co + 3u < params.cout) {
    let base = r * params.cout + co;
    return vec4<f32>(W[base], W[base + 1u], W[base + 2u], W[base + 3u]);
  }
  return vec4<f32>(load_w(r, co), load_w(r, co + 1u), load_w(r, co + 2u), load_w(r, co + 3u));
}

fn store(row: u32, co: u32, acc: f32) {
  if (row >= params.rows || co >= params.cout) { return; }
  let b = row / params.T;
  let t = row % params.T;
  var v = acc;
  if ((params.flags & 8u) != 0u) { v += bias[co]; }
  if ((params.flags & 16u) != 0u) {
    let f = b * params.frames + t / params.frame_len;
    v += fbias[f * params.fb_stride + params.fb_offset + co];
  }
  let o = row * params.cout + co;
  if ((params.flags & 4u) != 0u) { v += y[o]; }
  if ((params.flags & 32u) != 0u) { v += resid[o]; }
  if ((params.flags & 2u) != 0u) { v = max(v, 0.0); }
  y[o] = v;
}
