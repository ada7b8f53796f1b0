// Gradient of conv2d (NHWC, TF 'SAME' padding) with respect to its input, which is also the forward
// pass of a transposed convolution (TF conv2d_transpose, filter [kh, kw, Cin, Cout]):
//   dx[b, ih, iw, ci] (+)= sum over i < kh, j < kw, co < Cout with oh = (ih + pad_top - i) / sh and
//                          ow = (iw + pad_left - j) / sw exact integers in [0, OH) x [0, OW)
//                          of dy[b, oh, ow, co] * w[i, j, ci, co]
// with dy [B, OH, OW, Cout], w [kh, kw, Cin, Cout], dx [B, H, W, Cin].
// The taps are split by stride phase: input row ih meets the taps i = ph, ph + sh, ... with
// ph = (ih + pad_top) % sh, at output rows oh = (ih + pad_top - ph) / sh - t for the t-th of them
// (columns likewise). Each phase (ph, pw) is workgroup z, a dense stride-1 correlation, so no
// thread tests a tap for divisibility. A thread owns one input pixel of its phase and CB input
// channels (ci0 = CB * workgroup y, so the workgroup reads the same weights); each dy it reads
// serves CB products. kernels/conv2d_backward_input_lanes.wgsl is the CPU-adapter variant.

override CB: u32 = 8u;  // input channels per thread, 1..8, divides Cin

//! include lib_conv2d_backward_input_params
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let sh = params.sh;
  let sw = params.sw;
  let cin = params.cin;
  let cout = params.cout;
  // The phase: its first input row / column, pixel counts and taps.
  let ph = wg.z / sw;
  let pw = wg.z % sw;
  let ih_f = (ph + sh - params.pad_top % sh) % sh;
  let iw_f = (pw + sw - params.pad_left % sw) % sw;
  let nh = select(0u, (params.H - ih_f + sh - 1u) / sh, ih_f < params.H);
  let nw = select(0u, (params.W - iw_f + sw - 1u) / sw, iw_f < params.W);
  let nth = select(0u, (params.kh - ph + sh - 1u) / sh, ph < params.kh);
  let ntw = select(0u, (params.kw - pw + sw - 1u) / sw, pw < params.kw);
  let count = params.B * nh * nw;
  let ci0 = wg.y * CB;
  let tap_stride = cin * cout;
  for (var p = gid.x; p < count; p += nwg.x * 64u) {
    let aw = p % nw;
    let t = p / nw;
    let ah = t % nh;
    let b = t / nh;
    let ih = ih_f + sh * ah;
    let iw = iw_f + sw * aw;
    // Output row and column of the phase's first tap.
    let qh = i32((ih + params.pad_top - ph) / sh);
    let qw = i32((iw + params.pad_left - pw) / sw);
    // Zeroed explicitly: lavapipe kept the last iteration's values for a bare `var acc: array<f32, 8>;`.
    var acc = array<f32, 8>();
    for (var th = 0u; th < nth; th++) {
      let oh = qh - i32(th);
      if (oh < 0 || oh >= i32(params.OH)) { continue; }
      let grow = (b * params.OH + u32(oh)) * params.OW;
      let i = ph + sh * th;
      for (var tw = 0u; tw < ntw; tw++) {
        let ow = qw - i32(tw);
        if (ow < 0 || ow >= i32(params.OW)) { continue; }
        let go = (grow + u32(ow)) * cout;
        let wo = ((i * params.kw + pw + sw * tw) * cin + ci0) * cout;
        for (var co = 0u; co < cout; co++) {
          let g = dy[go + co];
          for (var c = 0u; c < CB; c++) { acc[c] = fma(g, w[wo + c * cout + co], acc[c]); }
        }
      }
    }
    let xo = ((b * params.H + ih) * params.W + iw) * cin + ci0;
    for (var c = 0u; c < CB; c++) {
      var v = acc[c];
      if (params.accumulate != 0u) { v += dx[xo + c]; }
      dx[xo + c] = v;
    }
  }
}
