// 1-D convolution with K taps at dilation d over time-major activations, as a tiled matmul:
//   y[b, t, co] = bias[co] + fbias[b, t / frame_len, co] + sum_{k, ci} x[b, t + k*d + offset, ci] * W[k, ci, co]
// x is [B, T, Cin], W is Magenta's [1, K, Cin, Cout] flattened as (k*Cin + ci)*Cout + co, y is [B, T, Cout].
// Reads outside [0, T) are zero: offset = -2d gives the causal taps (t-2d, t-d, t), offset = -d the
// centred ones (t-d, t, t+d), offset = -2d-1 the causal taps of a shift_right'ed input. K = 1 is a
// 1x1 conv (a matmul). Optional: ReLU on the input, ReLU on the output, accumulate into y (residual
// and skip sums), a per-frame bias (the upsampled conditioning, fused instead of materialised).

struct Params {
  T: u32,          // time steps per batch item
  rows: u32,       // B * T
  cin: u32,
  cout: u32,
  taps: u32,       // K
  dilation: u32,
  offset: i32,     // time offset of tap 0
  flags: u32,      // 1 relu_in, 2 relu_out, 4 accumulate, 8 bias, 16 frame bias
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
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const TM: u32 = 64u;  // rows (time) per tile
const TN: u32 = 64u;  // output channels per tile
const TK: u32 = 16u;  // reduction chunk

var<workgroup> As: array<f32, 1024>;  // [TK][TM]
var<workgroup> Bs: array<f32, 1024>;  // [TK][TN]

fn load_x(row: u32, r: u32) -> f32 {
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

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = wg.y * TM;
  let col0 = wg.x * TN;
  let lin = lid.y * 16u + lid.x;
  let R = params.taps * params.cin;
  var acc: array<array<f32, 4>, 4>;
  for (var r0 = 0u; r0 < R; r0 += TK) {
    // Each of the 256 threads stages 4 values of the input tile and 4 of the weight tile.
    for (var i = 0u; i < 4u; i++) {
      let e = lin + i * 256u;     // 0..1023
      let kk = e / TM;
      let mm = e % TM;
      As[kk * TM + mm] = load_x(row0 + mm, r0 + kk);
      let kb = e / TN;
      let nb = e % TN;
      let r = r0 + kb;
      let co = col0 + nb;
      var w = 0.0;
      if (r < R && co < params.cout) { w = W[r * params.cout + co]; }
      Bs[kb * TN + nb] = w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var a: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = As[kk * TM + lid.y + 16u * i]; }
      for (var j = 0u; j < 4u; j++) { bv[j] = Bs[kk * TN + lid.x + 16u * j]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(a[i], bv[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y + 16u * i;
    if (row >= params.rows) { continue; }
    let b = row / params.T;
    let t = row % params.T;
    for (var j = 0u; j < 4u; j++) {
      let co = col0 + lid.x + 16u * j;
      if (co >= params.cout) { continue; }
      var v = acc[i][j];
      if ((params.flags & 8u) != 0u) { v += bias[co]; }
      if ((params.flags & 16u) != 0u) {
        let f = b * params.frames + t / params.frame_len;
        v += fbias[f * params.fb_stride + params.fb_offset + co];
      }
      let o = row * params.cout + co;
      if ((params.flags & 4u) != 0u) { v += y[o]; }
      if ((params.flags & 2u) != 0u) { v = max(v, 0.0); }
      y[o] = v;
    }
  }
}
