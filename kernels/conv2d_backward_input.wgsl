// Gradient of conv2d (NHWC, TF 'SAME' padding) with respect to its input, which is also the forward
// pass of a transposed convolution (TF conv2d_transpose, filter [kh, kw, Cin, Cout]):
//   dx[b, ih, iw, ci] (+)= sum over i < kh, j < kw, co < Cout with oh = (ih + pad_top - i) / sh and
//                          ow = (iw + pad_left - j) / sw exact integers in [0, OH) x [0, OW)
//                          of dy[b, oh, ow, co] * w[i, j, ci, co]
// with dy [B, OH, OW, Cout], w [kh, kw, Cin, Cout], dx [B, H, W, Cin].
// One thread per input element, ci fastest. Faster would be to split the taps by stride phase
// (each phase is a dense stride-1 conv, so no thread skips taps) and tile it as a GEMM with rows
// b*H*W, columns Cin, reduction over the phase's taps x Cout.

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
  total: u32,      // B * H * W * Cin
  accumulate: u32, // 1 adds into dx
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let sh = i32(params.sh);
  let sw = i32(params.sw);
  for (var idx = gid.x; idx < params.total; idx += nwg.x * 64u) {
    let ci = idx % params.cin;
    let pix = idx / params.cin;            // (b * H + ih) * W + iw
    let iw = pix % params.W;
    let bh = pix / params.W;               // b * H + ih
    let ih = bh % params.H;
    let b = bh / params.H;
    // Output position oh*sh = ih + pad_top - i: its numerator, before division by the stride.
    let th0 = i32(ih + params.pad_top);
    let tw0 = i32(iw + params.pad_left);
    var acc = 0.0;
    for (var i = 0u; i < params.kh; i++) {
      let th = th0 - i32(i);
      if (th < 0 || th % sh != 0) { continue; }
      let oh = u32(th / sh);
      if (oh >= params.OH) { continue; }
      for (var j = 0u; j < params.kw; j++) {
        let tw = tw0 - i32(j);
        if (tw < 0 || tw % sw != 0) { continue; }
        let ow = u32(tw / sw);
        if (ow >= params.OW) { continue; }
        let go = ((b * params.OH + oh) * params.OW + ow) * params.cout;
        let wo = ((i * params.kw + j) * params.cin + ci) * params.cout;
        for (var co = 0u; co < params.cout; co++) {
          acc += dy[go + co] * w[wo + co];
        }
      }
    }
    if (params.accumulate != 0u) { acc += dx[idx]; }
    dx[idx] = acc;
  }
}
