// 2-D convolution, NHWC, TensorFlow 'SAME' padding (the spectrogram baseline's strided convs):
//   y[b, oh, ow, co] (+)= bias[co] + sum_{i < kh, j < kw, ci < Cin} x[b, oh*sh + i - pad_top, ow*sw + j - pad_left, ci] * w[i, j, ci, co]
// with x [B, H, W, Cin], w [kh, kw, Cin, Cout], y [B, OH, OW, Cout]; taps outside the input read 0.
// Each thread owns one output pixel and CB output channels (co0 = CB * workgroup y, so every
// weight read is the same address across the workgroup); each x it reads serves CB products.
// kernels/conv2d_lanes.wgsl is the CPU-adapter variant (lavapipe reads even those same-address
// weights once per lane, so there the subgroup shares them instead).

override CB: u32 = 8u;  // output channels per thread, 1..8, divides Cout

//! include lib_conv2d_params
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let H = i32(params.H);
  let W = i32(params.W);
  let cin = params.cin;
  let cout = params.cout;
  let co0 = wg.y * CB;
  let tap_stride = cin * cout;
  for (var pix = gid.x; pix < params.pixels; pix += nwg.x * 64u) {
    let ow = pix % params.OW;
    let bh = pix / params.OW;              // b * OH + oh
    let oh = bh % params.OH;
    let b = bh / params.OH;
    let ih0 = i32(oh * params.sh) - i32(params.pad_top);
    let iw0 = i32(ow * params.sw) - i32(params.pad_left);
    // Zeroed explicitly: lavapipe kept the last iteration's values for a bare `var acc: array<f32, 8>;`.
    var acc = array<f32, 8>();
    for (var i = 0u; i < params.kh; i++) {
      let ih = ih0 + i32(i);
      if (ih < 0 || ih >= H) { continue; }
      let xrow = (b * params.H + u32(ih)) * params.W;
      for (var j = 0u; j < params.kw; j++) {
        let iw = iw0 + i32(j);
        if (iw < 0 || iw >= W) { continue; }
        let xo = (xrow + u32(iw)) * cin;
        var wo = (i * params.kw + j) * tap_stride + co0;
        for (var ci = 0u; ci < cin; ci++) {
          let xv = x[xo + ci];
          for (var c = 0u; c < CB; c++) { acc[c] = fma(xv, w[wo + c], acc[c]); }
          wo += cout;
        }
      }
    }
    let yo = pix * cout + co0;
    for (var c = 0u; c < CB; c++) {
      var v = acc[c];
      if ((params.flags & 1u) != 0u) { v += bias[co0 + c]; }
      if ((params.flags & 2u) != 0u) { v += y[yo + c]; }
      y[yo + c] = v;
    }
  }
}
