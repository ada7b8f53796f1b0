// Gradient of conv2d (NHWC, TF 'SAME' padding) with respect to its weights and bias, over one chunk
// of the output positions n = (b * OH + oh) * OW + ow per workgroup row z:
//   part[z, (i*kw + j)*Cin*Cout + ci*Cout + co] = sum_{n in chunk z} x[b, oh*sh + i - pad_top, ow*sw + j - pad_left, ci] * dy[n, co]
//   part[z, kh*kw*Cin*Cout + co]                = sum_{n in chunk z} dy[n, co]      (the bias, when there is one)
// with taps outside the input counting 0. Chunk z covers n in [z*chunk, min((z+1)*chunk, rows)).
// Chunks keep each thread's serial sum short and give the GPU chunks x (weights + Cout) threads;
// conv2d_backward_weight_sum adds them. With one chunk (flag 2) the sums go straight into
// dw [kh, kw, Cin, Cout] and dbias [Cout] instead, and no scratch is needed.
// One thread per (chunk, weight), co fastest: neighbouring threads read neighbouring dy and the same
// x. Faster would be a tiled GEMM per chunk (rows kh*kw*Cin, columns Cout, reduction over n) and
// skipping the rows whose tap falls in the padding instead of testing every one.

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
  rows: u32,       // B * OH * OW
  chunk: u32,      // output positions per chunk
  n_w: u32,        // kh * kw * Cin * Cout
  flags: u32,      // 1 bias gradient, 2 direct (one chunk: write dw, dbias), 4 accumulate (direct only)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
// The partial sums [chunks, n_w + Cout] when chunked; dw itself when direct.
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
// dbias when direct and the conv has a bias; a placeholder otherwise (bias partials go to dw).
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(64)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let has_bias = (params.flags & 1u) != 0u;
  let direct = (params.flags & 2u) != 0u;
  let accumulate = (params.flags & 4u) != 0u;
  let n = params.n_w + select(0u, params.cout, has_bias);
  let stride = params.n_w + params.cout;   // a chunk's row in the scratch, bias or not
  let z = wg.y;
  let begin = z * params.chunk;
  let end = min(params.rows, begin + params.chunk);
  let H = i32(params.H);
  let W = i32(params.W);
  for (var k = gid.x; k < n; k += nwg.x * 64u) {
    let co = k % params.cout;
    var acc = 0.0;
    if (k < params.n_w) {
      let r = k / params.cout;             // (i * kw + j) * Cin + ci
      let ci = r % params.cin;
      let ij = r / params.cin;
      let j = ij % params.kw;
      let i = ij / params.kw;
      // Walk the chunk's positions in order, carrying (b, oh, ow) instead of dividing per row.
      var ow = begin % params.OW;
      var oh = (begin / params.OW) % params.OH;
      var b = begin / (params.OW * params.OH);
      for (var p = begin; p < end; p++) {
        let ih = i32(oh * params.sh + i) - i32(params.pad_top);
        let iw = i32(ow * params.sw + j) - i32(params.pad_left);
        if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
          acc += x[((b * params.H + u32(ih)) * params.W + u32(iw)) * params.cin + ci] * dy[p * params.cout + co];
        }
        ow++;
        if (ow == params.OW) {
          ow = 0u;
          oh++;
          if (oh == params.OH) { oh = 0u; b++; }
        }
      }
    } else {
      for (var p = begin; p < end; p++) { acc += dy[p * params.cout + co]; }
    }
    if (!direct) {
      dw[z * stride + k] = acc;
    } else if (k < params.n_w) {
      if (accumulate) { acc += dw[k]; }
      dw[k] = acc;
    } else {
      if (accumulate) { acc += dbias[co]; }
      dbias[co] = acc;
    }
  }
}
