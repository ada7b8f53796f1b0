enable subgroups;
// conv2d_backward_input (see kernels/conv2d_backward_input.wgsl for the maths; also the forward of
// a transposed conv) shaped for CPU adapters as conv2d_lanes is. The taps are split by stride
// phase: input row ih meets the taps i = ph, ph + sh, ... with ph = (ih + pad_top) % sh, at output
// rows oh = (ih + pad_top - ph) / sh - t for the t-th of them (columns likewise), so each phase
// (ph, pw) = workgroup z is a dense stride-1 correlation and no tap is tested for divisibility.
// Each invocation owns two input pixels of its phase and the workgroup's 8 input channels; per tap
// and vec4 of output channels, lane l reads the weights of input channel ci0 + l and
// subgroupBroadcast hands all eight to every lane. Needs Cout divisible by 4, subgroups of 8+ lanes.

//! include lib_conv2d_backward_input_params
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;  // [B, OH, OW, Cout / 4]
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;   // [kh, kw, Cin, Cout / 4]
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;  // [B, H, W, Cin]

const LANES: u32 = 64u;  // invocations per workgroup; each owns pixels lid and lid + LANES of the phase

// Input channels ci0 .. ci0 + 3 (acc.0) and ci0 + 4 .. ci0 + 7 (acc.1) of the two pixels.
var<private> acc00: vec4<f32>;
var<private> acc01: vec4<f32>;
var<private> acc10: vec4<f32>;
var<private> acc11: vec4<f32>;

// A pixel of the phase: where it is in dx, and its output position for the phase's first tap.
struct Pixel {
  at: u32,     // (b * H + ih) * W + iw
  img: u32,    // b * OH
  qh: i32,
  qw: i32,
  live: bool,
}

fn pixel(p: u32, count: u32, nw: u32, nh: u32, ih_f: u32, iw_f: u32, ph: u32, pw: u32) -> Pixel {
  let aw = p % max(nw, 1u);
  let t = p / max(nw, 1u);
  let ah = t % max(nh, 1u);
  let b = t / max(nh, 1u);
  let ih = ih_f + params.sh * ah;
  let iw = iw_f + params.sw * aw;
  return Pixel(
    (b * params.H + ih) * params.W + iw,
    b * params.OH,
    i32((ih + params.pad_top - ph) / params.sh),
    i32((iw + params.pad_left - pw) / params.sw),
    p < count,
  );
}

// Offset of the vec4s of dy[b, qh - th, qw - tw, :], or -1 where that is outside dy.
fn tap(q: Pixel, th: u32, tw: u32) -> i32 {
  let oh = q.qh - i32(th);
  let ow = q.qw - i32(tw);
  let ok = q.live && oh >= 0 && oh < i32(params.OH) && ow >= 0 && ow < i32(params.OW);
  return select(-1, i32(((q.img + u32(oh)) * params.OW + u32(ow)) * (params.cout / 4u)), ok);
}

fn dy_at(o: i32, c4: u32) -> vec4<f32> {
  return select(vec4<f32>(), dy[u32(max(o, 0)) + c4], o >= 0);
}

// One vec4 of output channels: g (a pixel's dy) against the eight input channels' weights, which
// arrive transposed (tk holds component k of the eight weight vec4s: t0k for ci0..3, t1k ci4..7).
fn fma_pair(
  ga: vec4<f32>, gb: vec4<f32>,
  t0x: vec4<f32>, t0y: vec4<f32>, t0z: vec4<f32>, t0w: vec4<f32>,
  t1x: vec4<f32>, t1y: vec4<f32>, t1z: vec4<f32>, t1w: vec4<f32>,
) {
  acc00 = fma(vec4<f32>(ga.x), t0x, acc00); acc01 = fma(vec4<f32>(ga.x), t1x, acc01);
  acc00 = fma(vec4<f32>(ga.y), t0y, acc00); acc01 = fma(vec4<f32>(ga.y), t1y, acc01);
  acc00 = fma(vec4<f32>(ga.z), t0z, acc00); acc01 = fma(vec4<f32>(ga.z), t1z, acc01);
  acc00 = fma(vec4<f32>(ga.w), t0w, acc00); acc01 = fma(vec4<f32>(ga.w), t1w, acc01);
  acc10 = fma(vec4<f32>(gb.x), t0x, acc10); acc11 = fma(vec4<f32>(gb.x), t1x, acc11);
  acc10 = fma(vec4<f32>(gb.y), t0y, acc10); acc11 = fma(vec4<f32>(gb.y), t1y, acc11);
  acc10 = fma(vec4<f32>(gb.z), t0z, acc10); acc11 = fma(vec4<f32>(gb.z), t1z, acc11);
  acc10 = fma(vec4<f32>(gb.w), t0w, acc10); acc11 = fma(vec4<f32>(gb.w), t1w, acc11);
}

fn store(q: Pixel, ci: u32, v: f32) {
  if (!q.live || ci >= params.cin) { return; }
  let k = q.at * params.cin + ci;
  var r = v;
  if (params.accumulate != 0u) { r += dx[k]; }
  dx[k] = r;
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let sh = params.sh;
  let sw = params.sw;
  let cout4 = params.cout / 4u;
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
  let ci0 = wg.y * 8u;
  // Lane l fetches the weights of input channel ci0 + l.
  let fetch_ci = ci0 + lane % 8u;
  let fetch_ok = fetch_ci < params.cin;
  let blocks = (count + 2u * LANES - 1u) / (2u * LANES);
  for (var blk = wg.x; blk < blocks; blk += nwg.x) {
    let qa = pixel(blk * 2u * LANES + lid.x, count, nw, nh, ih_f, iw_f, ph, pw);
    let qb = pixel(blk * 2u * LANES + lid.x + LANES, count, nw, nh, ih_f, iw_f, ph, pw);
    acc00 = vec4<f32>(); acc01 = vec4<f32>();
    acc10 = vec4<f32>(); acc11 = vec4<f32>();
    for (var th = 0u; th < nth; th++) {
      let i = ph + sh * th;
      for (var tw = 0u; tw < ntw; tw++) {
        let j = pw + sw * tw;
        let oa = tap(qa, th, tw);
        let ob = tap(qb, th, tw);
        let wbase = ((i * params.kw + j) * params.cin + select(0u, fetch_ci, fetch_ok)) * cout4;
        for (var c4 = 0u; c4 < cout4; c4++) {
          let mine = select(vec4<f32>(), w[wbase + c4], fetch_ok);
          let m0 = subgroupBroadcast(mine, 0u);
          let m1 = subgroupBroadcast(mine, 1u);
          let m2 = subgroupBroadcast(mine, 2u);
          let m3 = subgroupBroadcast(mine, 3u);
          let m4 = subgroupBroadcast(mine, 4u);
          let m5 = subgroupBroadcast(mine, 5u);
          let m6 = subgroupBroadcast(mine, 6u);
          let m7 = subgroupBroadcast(mine, 7u);
          fma_pair(
            dy_at(oa, c4), dy_at(ob, c4),
            vec4<f32>(m0.x, m1.x, m2.x, m3.x), vec4<f32>(m0.y, m1.y, m2.y, m3.y),
            vec4<f32>(m0.z, m1.z, m2.z, m3.z), vec4<f32>(m0.w, m1.w, m2.w, m3.w),
            vec4<f32>(m4.x, m5.x, m6.x, m7.x), vec4<f32>(m4.y, m5.y, m6.y, m7.y),
            vec4<f32>(m4.z, m5.z, m6.z, m7.z), vec4<f32>(m4.w, m5.w, m6.w, m7.w),
          );
        }
      }
    }
    for (var k = 0u; k < 4u; k++) {
      store(qa, ci0 + k, acc00[k]);
      store(qa, ci0 + 4u + k, acc01[k]);
      store(qb, ci0 + k, acc10[k]);
      store(qb, ci0 + 4u + k, acc11[k]);
    }
  }
}
