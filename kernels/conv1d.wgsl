// 1-D convolution with K taps at dilation d over time-major activations, as a tiled matmul:
//   y[b, t, co] = bias[co] + fbias[b, t / frame_len, co] + sum_{k, ci} x[b, t + k*d + offset, ci] * W[k, ci, co]
// x is [B, T, Cin], W is Magenta's [1, K, Cin, Cout] flattened as (k*Cin + ci)*Cout + co, y is [B, T, Cout].
// Reads outside [0, T) are zero: offset = -2d gives the causal taps (t-2d, t-d, t), offset = -d the
// centred ones (t-d, t, t+d), offset = -2d-1 the causal taps of a shift_right'ed input. K = 1 is a
// 1x1 conv (a matmul). Optional: ReLU on the input, ReLU on the output, accumulate into y (residual
// and skip sums), add a residual input out of place (y = resid + conv(x), when the old value must
// be kept for a backward pass), a per-frame bias (the upsampled conditioning, fused instead of materialised).

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

//! include lib_matmul_tile

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

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  tile_matmul(wg.y * TM, wg.x * TN, 0u, params.taps * params.cin, lid);
}
