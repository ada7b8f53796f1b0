enable subgroups;
// conv2d (see kernels/conv2d.wgsl for the maths) shaped for CPU adapters, where a subgroup is one
// SIMD register (lavapipe: 8 lanes) and every per-lane memory read is a scalar load per lane (see
// kernels/conv1d_lanes.wgsl). An implicit GEMM: rows are output pixels, columns output channels,
// the reduction runs over r = (i * kw + j) * Cin + ci. Each invocation owns two output pixels
// (lid and lid + 64 of the workgroup's 128) and the workgroup's 8 output channels; the weights,
// which every lane needs, are read once per subgroup (lane l reads the vec4 of row r0 + l / 2,
// column half l % 2) and handed round by subgroupBroadcast. Taps in the padding read zero through
// a select, so the loops stay uniform. Needs Cout divisible by 4 and subgroups of 8+ lanes.
// CIN_VEC (Cin divisible by 4): the four rows of a weight fetch are one tap's four channels, read
// as four neighbouring floats of x with one bounds test; otherwise each row finds its own tap.

override CIN_VEC: bool = true;

//! include lib_conv2d_params
@group(0) @binding(1) var<storage, read> x: array<f32>;        // [B, H, W, Cin]
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;  // [kh, kw, Cin, Cout / 4]
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const LANES: u32 = 64u;  // invocations per workgroup; each owns pixels lid and lid + LANES

// Output channels co0 .. co0 + 3 (acc.0) and co0 + 4 .. co0 + 7 (acc.1) of the two pixels.
var<private> acc00: vec4<f32>;
var<private> acc01: vec4<f32>;
var<private> acc10: vec4<f32>;
var<private> acc11: vec4<f32>;

// One reduction row: xa, xb of the two pixels times the row's 8 weights.
fn fma_row(xa: f32, xb: f32, w0: vec4<f32>, w1: vec4<f32>) {
  acc00 = fma(vec4<f32>(xa), w0, acc00);
  acc01 = fma(vec4<f32>(xa), w1, acc01);
  acc10 = fma(vec4<f32>(xb), w0, acc10);
  acc11 = fma(vec4<f32>(xb), w1, acc11);
}

// A pixel: its first input row and column (may be negative) and image offset.
struct Pixel {
  ih0: i32,
  iw0: i32,
  img: u32,   // b * H
  live: bool,
}

fn pixel(p: u32) -> Pixel {
  let ow = p % params.OW;
  let bh = p / params.OW;
  let oh = bh % params.OH;
  let b = bh / params.OH;
  return Pixel(
    i32(oh * params.sh) - i32(params.pad_top),
    i32(ow * params.sw) - i32(params.pad_left),
    b * params.H,
    p < params.pixels,
  );
}

// Offset of x[b, ih0 + i, iw0 + j, 0], or -1 in the padding (or for a dead pixel).
fn tap(q: Pixel, i: u32, j: u32) -> i32 {
  let ih = q.ih0 + i32(i);
  let iw = q.iw0 + i32(j);
  let ok = q.live && ih >= 0 && ih < i32(params.H) && iw >= 0 && iw < i32(params.W);
  return select(-1, i32(((q.img + u32(ih)) * params.W + u32(iw)) * params.cin), ok);
}

fn x_at(o: i32, ci: u32) -> f32 {
  return select(0.0, x[u32(max(o, 0)) + ci], o >= 0);
}

// The reduction row the generic path is at.
var<private> ri: u32;
var<private> rj: u32;
var<private> rci: u32;

// One row of the generic path (Cin not divisible by 4). Rows past the end have zero weights; ri
// is clamped so their reads stay in bounds.
fn row_step(qa: Pixel, qb: Pixel, w0: vec4<f32>, w1: vec4<f32>) {
  let i = min(ri, params.kh - 1u);
  fma_row(x_at(tap(qa, i, rj), rci), x_at(tap(qb, i, rj), rci), w0, w1);
  rci++;
  if (rci == params.cin) {
    rci = 0u;
    rj++;
    if (rj == params.kw) {
      rj = 0u;
      ri++;
    }
  }
}

fn store(p: u32, co: u32, v: f32) {
  if (p >= params.pixels || co >= params.cout) { return; }
  var r = v;
  if ((params.flags & 1u) != 0u) { r += bias[co]; }
  let k = p * params.cout + co;
  if ((params.flags & 2u) != 0u) { r += y[k]; }
  y[k] = r;
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let cin = params.cin;
  let cout4 = params.cout / 4u;
  let rows = params.kh * params.kw * cin;
  let col4 = wg.y * 2u;
  // Lane l fetches weight row r0 + l / 2 (of the four a fetch spans), column vec4 col4 + l % 2.
  let fetch_q = (lane % 8u) / 2u;
  let fetch_c = col4 + lane % 2u;
  let fetch_ok = fetch_c < cout4;
  let blocks = (params.pixels + 2u * LANES - 1u) / (2u * LANES);
  for (var blk = wg.x; blk < blocks; blk += nwg.x) {
    let p0 = blk * 2u * LANES + lid.x;
    let p1 = p0 + LANES;
    let qa = pixel(p0);
    let qb = pixel(p1);
    acc00 = vec4<f32>(); acc01 = vec4<f32>();
    acc10 = vec4<f32>(); acc11 = vec4<f32>();
    if (CIN_VEC) {
      for (var i = 0u; i < params.kh; i++) {
        for (var j = 0u; j < params.kw; j++) {
          let oa = tap(qa, i, j);
          let ob = tap(qb, i, j);
          let r = (i * params.kw + j) * cin;
          for (var c = 0u; c < cin; c += 4u) {
            let mine = select(vec4<f32>(), w[(r + c + fetch_q) * cout4 + fetch_c], fetch_ok);
            fma_row(x_at(oa, c), x_at(ob, c), subgroupBroadcast(mine, 0u), subgroupBroadcast(mine, 1u));
            fma_row(x_at(oa, c + 1u), x_at(ob, c + 1u), subgroupBroadcast(mine, 2u), subgroupBroadcast(mine, 3u));
            fma_row(x_at(oa, c + 2u), x_at(ob, c + 2u), subgroupBroadcast(mine, 4u), subgroupBroadcast(mine, 5u));
            fma_row(x_at(oa, c + 3u), x_at(ob, c + 3u), subgroupBroadcast(mine, 6u), subgroupBroadcast(mine, 7u));
          }
        }
      }
    } else {
      // Row r is (i, j, ci) with ci fastest; each row_step moves (ri, rj, rci) one row on.
      ri = 0u;
      rj = 0u;
      rci = 0u;
      for (var r0 = 0u; r0 < rows; r0 += 4u) {
        let fr = r0 + fetch_q;
        let mine = select(vec4<f32>(), w[min(fr, rows - 1u) * cout4 + fetch_c], fetch_ok && fr < rows);
        row_step(qa, qb, subgroupBroadcast(mine, 0u), subgroupBroadcast(mine, 1u));
        row_step(qa, qb, subgroupBroadcast(mine, 2u), subgroupBroadcast(mine, 3u));
        row_step(qa, qb, subgroupBroadcast(mine, 4u), subgroupBroadcast(mine, 5u));
        row_step(qa, qb, subgroupBroadcast(mine, 6u), subgroupBroadcast(mine, 7u));
      }
    }
    let co = col4 * 4u;
    for (var q = 0u; q < 4u; q++) {
      store(p0, co + q, acc00[q]);
      store(p0, co + 4u + q, acc01[q]);
      store(p1, co + q, acc10[q]);
      store(p1, co + 4u + q, acc11[q]);
    }
  }
}
