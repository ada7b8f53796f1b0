enable subgroups;
// conv2d_backward_weight (see kernels/conv2d_backward_weight.wgsl for the maths, the chunks and the
// flags) shaped for CPU adapters as conv2d_lanes is. Each invocation owns weight rows and the
// workgroup's 8 output channels, and runs serially over its chunk of output positions n (a CPU core
// wants long loops); every lane of the workgroup walks the same n, so the output gradient is the
// operand they share: per four positions lane l reads the vec4 dy[n0 + l / 2, col4 + l % 2] and
// subgroupBroadcast hands each lane all of them. With CIN_VEC (Cin divisible by 4) a lane's rows are
// one tap's four input channels (i, j, 4c .. 4c + 3), four neighbouring floats of x with one bounds
// test, 32 products per position; otherwise one row (i, j, ci), 8 products. The workgroups of the
// first row block also sum dy for the bias. Needs Cout divisible by 4 and subgroups of 8+ lanes.

override CIN_VEC: bool = true;

//! include lib_conv2d_backward_weight_params
@group(0) @binding(1) var<storage, read> x: array<f32>;         // [B, H, W, Cin]
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;  // [B * OH * OW, Cout / 4]
// The partial sums [chunks, n_w + Cout] when chunked; dw itself when direct.
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
// dbias when direct and the conv has a bias; a placeholder otherwise (bias partials go to dw).
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;

const LANES: u32 = 8u;  // invocations per workgroup: one 8-lane subgroup

// acc<q><h>: input channel q of the lane's rows (only q = 0 without CIN_VEC), output channels
// co0 + 4h .. co0 + 4h + 3.
var<private> acc00: vec4<f32>;
var<private> acc01: vec4<f32>;
var<private> acc10: vec4<f32>;
var<private> acc11: vec4<f32>;
var<private> acc20: vec4<f32>;
var<private> acc21: vec4<f32>;
var<private> acc30: vec4<f32>;
var<private> acc31: vec4<f32>;
var<private> gsum0: vec4<f32>;
var<private> gsum1: vec4<f32>;

// The output position the chunk walk is at: b * H, and the input row and column of tap (0, 0).
var<private> img: u32;
var<private> ih0: i32;
var<private> iw0: i32;
var<private> ow: u32;
var<private> oh: u32;

// The lane's rows: tap (i, j) and first input channel; live: the lane owns rows at all.
struct Rows {
  i: i32,
  j: i32,
  ci: u32,
  live: bool,
}

// One output position with its gradient g0 (co0 .. co0 + 3), g1 (co0 + 4 ..); moves the walk on.
fn step(r: Rows, g0: vec4<f32>, g1: vec4<f32>, with_bias: bool) {
  let ih = ih0 + r.i;
  let iw = iw0 + r.j;
  let ok = r.live && ih >= 0 && ih < i32(params.H) && iw >= 0 && iw < i32(params.W);
  let o = select(0u, ((img + u32(ih)) * params.W + u32(iw)) * params.cin + r.ci, ok);
  if (CIN_VEC) {
    let a = select(vec4<f32>(), vec4<f32>(x[o], x[o + 1u], x[o + 2u], x[o + 3u]), ok);
    acc00 = fma(vec4<f32>(a.x), g0, acc00); acc01 = fma(vec4<f32>(a.x), g1, acc01);
    acc10 = fma(vec4<f32>(a.y), g0, acc10); acc11 = fma(vec4<f32>(a.y), g1, acc11);
    acc20 = fma(vec4<f32>(a.z), g0, acc20); acc21 = fma(vec4<f32>(a.z), g1, acc21);
    acc30 = fma(vec4<f32>(a.w), g0, acc30); acc31 = fma(vec4<f32>(a.w), g1, acc31);
  } else {
    let a = select(0.0, x[o], ok);
    acc00 = fma(vec4<f32>(a), g0, acc00); acc01 = fma(vec4<f32>(a), g1, acc01);
  }
  if (with_bias) {
    gsum0 += g0;
    gsum1 += g1;
  }
  ow++;
  iw0 += i32(params.sw);
  if (ow == params.OW) {
    ow = 0u;
    iw0 = -i32(params.pad_left);
    oh++;
    ih0 += i32(params.sh);
    if (oh == params.OH) {
      oh = 0u;
      ih0 = -i32(params.pad_top);
      img += params.H;
    }
  }
}

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

fn put_row(z: u32, ci: u32, co: u32, a0: vec4<f32>, a1: vec4<f32>, r: Rows) {
  if (!r.live || ci >= params.cin) { return; }
  let k = ((u32(r.i) * params.kw + u32(r.j)) * params.cin + ci) * params.cout + co;
  for (var q = 0u; q < 4u; q++) {
    if (co + q < params.cout) { put(z, k + q, a0[q]); }
    if (co + 4u + q < params.cout) { put(z, k + 4u + q, a1[q]); }
  }
}

@compute @workgroup_size(8)
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let cout4 = params.cout / 4u;
  let col4 = wg.y * 2u;
  let z = wg.z;
  // The lane's rows.
  let per_tap = select(params.cin, params.cin / 4u, CIN_VEC);
  let lr = wg.x * LANES + lid.x;
  let live = lr < params.kh * params.kw * per_tap;
  let t = select(0u, lr / per_tap, live);
  let rows = Rows(
    i32(t / params.kw),
    i32(t % params.kw),
    select(1u, 4u, CIN_VEC) * (lr % per_tap),
    live,
  );
  let with_bias = (params.flags & 1u) != 0u && wg.x == 0u;  // uniform
  // Lane l fetches dy of position n0 + l / 2, column vec4 col4 + l % 2.
  let fetch_n = (lane % 8u) / 2u;
  let fetch_c = col4 + lane % 2u;
  let fetch_ok = fetch_c < cout4;
  let begin = z * params.chunk;
  let end = min(params.rows, begin + params.chunk);
  ow = begin % params.OW;
  oh = (begin / params.OW) % params.OH;
  img = (begin / (params.OW * params.OH)) * params.H;
  ih0 = i32(oh * params.sh) - i32(params.pad_top);
  iw0 = i32(ow * params.sw) - i32(params.pad_left);
  acc00 = vec4<f32>(); acc01 = vec4<f32>(); acc10 = vec4<f32>(); acc11 = vec4<f32>();
  acc20 = vec4<f32>(); acc21 = vec4<f32>(); acc30 = vec4<f32>(); acc31 = vec4<f32>();
  gsum0 = vec4<f32>(); gsum1 = vec4<f32>();
  // Whole groups of four positions, then the rest one at a time (dy is read up to end only).
  let end4 = begin + (end - begin) / 4u * 4u;
  for (var n0 = begin; n0 < end4; n0 += 4u) {
    let mine = select(vec4<f32>(), dy[(n0 + fetch_n) * cout4 + min(fetch_c, cout4 - 1u)], fetch_ok);
    step(rows, subgroupBroadcast(mine, 0u), subgroupBroadcast(mine, 1u), with_bias);
    step(rows, subgroupBroadcast(mine, 2u), subgroupBroadcast(mine, 3u), with_bias);
    step(rows, subgroupBroadcast(mine, 4u), subgroupBroadcast(mine, 5u), with_bias);
    step(rows, subgroupBroadcast(mine, 6u), subgroupBroadcast(mine, 7u), with_bias);
  }
  for (var n = end4; n < end; n++) {
    let mine = select(vec4<f32>(), dy[n * cout4 + min(fetch_c, cout4 - 1u)], fetch_ok && fetch_n == 0u);
    step(rows, subgroupBroadcast(mine, 0u), subgroupBroadcast(mine, 1u), with_bias);
  }
  let co = col4 * 4u;
  put_row(z, rows.ci, co, acc00, acc01, rows);
  if (CIN_VEC) {
    put_row(z, rows.ci + 1u, co, acc10, acc11, rows);
    put_row(z, rows.ci + 2u, co, acc20, acc21, rows);
    put_row(z, rows.ci + 3u, co, acc30, acc31, rows);
  }
  // Every lane holds the bias sums; lane k < 8 writes output channel co + k.
  if (with_bias) {
    let c = co + lid.x;
    if (c < params.cout) {
      put(z, params.n_w + c, select(gsum1[lid.x % 4u], gsum0[lid.x % 4u], lid.x < 4u));
    }
  }
}
