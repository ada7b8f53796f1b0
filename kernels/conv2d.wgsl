// 2-D convolution, NHWC, TensorFlow 'SAME' padding (the spectrogram baseline's strided convs):
//   y[b, oh, ow, co] (+)= bias[co] + sum_{i < kh, j < kw, ci < Cin} x[b, oh*sh + i - pad_top, ow*sw + j - pad_left, ci] * w[i, j, ci, co]
// with x [B, H, W, Cin], w [kh, kw, Cin, Cout], y [B, OH, OW, Cout]; taps outside the input read 0.
// One thread per output element, co fastest, so neighbouring threads read neighbouring weights and
// the same input value. Faster would be a register-tiled implicit GEMM (rows b*OH*OW, columns Cout,
// reduction kh*kw*Cin through workgroup memory), and splitting the reduction when the output is
// small (the 1x1 convs on 1x1 maps have only B*Cout outputs, each a sum over up to 2112 channels).

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
  total: u32,      // B * OH * OW * Cout
  flags: u32,      // 1 add bias, 2 accumulate into y
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let H = i32(params.H);
  let W = i32(params.W);
  for (var idx = gid.x; idx < params.total; idx += nwg.x * 64u) {
    let co = idx % params.cout;
    let pix = idx / params.cout;           // (b * OH + oh) * OW + ow
    let ow = pix % params.OW;
    let bh = pix / params.OW;              // b * OH + oh
    let oh = bh % params.OH;
    let b = bh / params.OH;
    let ih0 = i32(oh * params.sh) - i32(params.pad_top);
    let iw0 = i32(ow * params.sw) - i32(params.pad_left);
    var acc = 0.0;
    for (var i = 0u; i < params.kh; i++) {
      let ih = ih0 + i32(i);
      if (ih < 0 || ih >= H) { continue; }
      for (var j = 0u; j < params.kw; j++) {
        let iw = iw0 + i32(j);
        if (iw < 0 || iw >= W) { continue; }
        let xo = ((b * params.H + u32(ih)) * params.W + u32(iw)) * params.cin;
        let wo = (i * params.kw + j) * params.cin * params.cout + co;
        for (var ci = 0u; ci < params.cin; ci++) {
          acc += x[xo + ci] * w[wo + ci * params.cout];
        }
      }
    }
    if ((params.flags & 1u) != 0u) { acc += bias[co]; }
    if ((params.flags & 2u) != 0u) { acc += y[idx]; }
    y[idx] = acc;
  }
}
