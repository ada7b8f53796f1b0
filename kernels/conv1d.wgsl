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

const TM: u32 = 64u;   // rows (time) per tile
const TN: u32 = 128u;  // output channels per tile
const TK: u32 = 16u;   // reduction chunk

var<workgroup> As: array<f32, 1024>;        // [TK][TM]
var<workgroup> Bs: array<vec4<f32>, 512>;   // [TK][TN / 4]

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

fn load_w(r: u32, co: u32) -> f32 {
  if (r >= params.taps * params.cin || co >= params.cout) { return 0.0; }
  return W[r * params.cout + co];
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
  if ((params.flags & 2u) != 0u) { v = max(v, 0.0); }
  y[o] = v;
}

// 256 threads; thread (lx, ly) owns rows ly + 16i (i < 4) and the 8 channels of vec4 columns
// lx and lx + 16: 32 accumulators in eight vec4s, so each inner step is 6 loads for 32 FMAs.
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = wg.y * TM;
  let col0 = wg.x * TN;
  let lin = lid.y * 16u + lid.x;
  let R = params.taps * params.cin;
  var c00 = vec4<f32>(); var c01 = vec4<f32>();
  var c10 = vec4<f32>(); var c11 = vec4<f32>();
  var c20 = vec4<f32>(); var c21 = vec4<f32>();
  var c30 = vec4<f32>(); var c31 = vec4<f32>();
  for (var r0 = 0u; r0 < R; r0 += TK) {
    for (var i = 0u; i < 4u; i++) {
      let e = lin + i * 256u;      // 0..1023 over the [TK][TM] input tile
      As[e] = load_x(row0 + e % TM, r0 + e / TM);
    }
    for (var i = 0u; i < 2u; i++) {
      let e = lin + i * 256u;      // 0..511 over the [TK][TN/4] weight tile
      let kk = e / 32u;
      let co = col0 + (e % 32u) * 4u;
      let r = r0 + kk;
      if (r < R && co + 3u < params.cout) {
        let base = r * params.cout + co;
        Bs[e] = vec4<f32>(W[base], W[base + 1u], W[base + 2u], W[base + 3u]);
      } else {
        Bs[e] = vec4<f32>(load_w(r, co), load_w(r, co + 1u), load_w(r, co + 2u), load_w(r, co + 3u));
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a0 = As[kk * TM + lid.y];
      let a1 = As[kk * TM + lid.y + 16u];
      let a2 = As[kk * TM + lid.y + 32u];
      let a3 = As[kk * TM + lid.y + 48u];
      let b0 = Bs[kk * 32u + lid.x];
      let b1 = Bs[kk * 32u + lid.x + 16u];
      c00 = fma(vec4<f32>(a0), b0, c00); c01 = fma(vec4<f32>(a0), b1, c01);
      c10 = fma(vec4<f32>(a1), b0, c10); c11 = fma(vec4<f32>(a1), b1, c11);
      c20 = fma(vec4<f32>(a2), b0, c20); c21 = fma(vec4<f32>(a2), b1, c21);
      c30 = fma(vec4<f32>(a3), b0, c30); c31 = fma(vec4<f32>(a3), b1, c31);
    }
    workgroupBarrier();
  }
  let cA = col0 + lid.x * 4u;
  let cB = col0 + (lid.x + 16u) * 4u;
  let rows = array<u32, 4>(row0 + lid.y, row0 + lid.y + 16u, row0 + lid.y + 32u, row0 + lid.y + 48u);
  let accA = array<vec4<f32>, 4>(c00, c10, c20, c30);
  let accB = array<vec4<f32>, 4>(c01, c11, c21, c31);
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      store(rows[i], cA + j, accA[i][j]);
      store(rows[i], cB + j, accB[i][j]);
    }
  }
}
