// Gradient of conv2d (NHWC, TF 'SAME' padding) with respect to its weights and bias, over one chunk
// of the output positions n = (b * OH + oh) * OW + ow per workgroup row z:
//   part[z, (i*kw + j)*Cin*Cout + ci*Cout + co] = sum_{n in chunk z} x[b, oh*sh + i - pad_top, ow*sw + j - pad_left, ci] * dy[n, co]
//   part[z, kh*kw*Cin*Cout + co]                = sum_{n in chunk z} dy[n, co]      (the bias, when there is one)
// with taps outside the input counting 0. Chunk z covers n in [z*chunk, min((z+1)*chunk, rows)).
// Chunks keep each thread's serial sum short and give the GPU enough threads;
// conv2d_backward_weight_sum adds them. With one chunk (flag 2) the sums go straight into
// dw [kh, kw, Cin, Cout] and dbias [Cout] instead, and no scratch is needed.
// A thread owns one weight row r = (i*kw + j)*Cin + ci (r = kh*kw*Cin is the bias row, whose x is 1)
// and CB output channels; row fastest, so a workgroup's threads read the same dy and neighbouring x,
// and each x read serves CB products. Rows whose tap falls in the padding for a whole output row
// skip it. kernels/conv2d_backward_weight_lanes.wgsl is the CPU-adapter variant.

override CB: u32 = 8u;  // output channels per thread, 1..8, divides Cout

//! include lib_conv2d_backward_weight_params
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
// The partial sums [chunks, n_w + Cout] when chunked; dw itself when direct.
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
// dbias when direct and the conv has a bias; a placeholder otherwise (bias partials go to dw).
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;

// One partial sum: weight (or, k >= n_w, bias) element k of chunk z.
fn put(z: u32, k: u32, v: f32) {
  if ((params.flags & 2u) == 0u) {
    dw[z * (params.n_w + params.cout) + k] = v;
  } else if (k < params.n_w) {
    dw[k] = select(v, v + dw[k], (params.flags & 4u) != 0u);
  } else {
    let co = k - params.n_w;
    dbias[co] = select(v, v + dbias[co], (params.flags & 4u) != 0u);
  }
}

@compute @workgroup_size(64)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let cin = params.cin;
  let cout = params.cout;
  let taps_rows = params.kh * params.kw * cin;
  let n_rows = taps_rows + select(0u, 1u, (params.flags & 1u) != 0u);
  let n = n_rows * (cout / CB);
  let z = wg.y;
  let begin = z * params.chunk;
  let end = min(params.rows, begin + params.chunk);
  let H = i32(params.H);
  let W = i32(params.W);
  for (var t = gid.x; t < n; t += nwg.x * 64u) {
    let r = t % n_rows;
    let co0 = (t / n_rows) * CB;
    // Zeroed explicitly: lavapipe kept the last iteration's values for a bare `var acc: array<f32, 8>;`.
    var acc = array<f32, 8>();
    if (r < taps_rows) {
      let ci = r % cin;
      let ij = r / cin;
      let j = i32(ij % params.kw);
      let i = i32(ij / params.kw);
      // Walk the chunk's positions in order, carrying (b, oh, ow) instead of dividing per position.
      var ow = begin % params.OW;
      var oh = (begin / params.OW) % params.OH;
      var img = (begin / (params.OW * params.OH)) * params.H;
      var p = begin;
      while (p < end) {
        // The positions left in this output row.
        let run = min(end - p, params.OW - ow);
        let ih = i32(oh * params.sh) - i32(params.pad_top) + i;
        if (ih >= 0 && ih < H) {
          let xrow = (img + u32(ih)) * params.W;
          var iw = i32(ow * params.sw) - i32(params.pad_left) + j;
          var g = p * cout + co0;
          for (var k = 0u; k < run; k++) {
            if (iw >= 0 && iw < W) {
              let xv = x[(xrow + u32(iw)) * cin + ci];
              for (var c = 0u; c < CB; c++) { acc[c] = fma(xv, dy[g + c], acc[c]); }
            }
            iw += i32(params.sw);
            g += cout;
          }
        }
        p += run;
        ow = 0u;
        oh++;
        if (oh == params.OH) {
          oh = 0u;
          img += params.H;
        }
      }
    } else {
      for (var p = begin; p < end; p++) {
        for (var c = 0u; c < CB; c++) { acc[c] += dy[p * cout + co0 + c]; }
      }
    }
    let k = select(params.n_w, r * cout, r < taps_rows) + co0;
    for (var c = 0u; c < CB; c++) { put(z, k + c, acc[c]); }
  }
}
