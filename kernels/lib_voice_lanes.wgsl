// The body of the voice-lanes generation kernels (gen_voice_lanes: f32 weights; gen_voice_lanes_f16:
// the same weights stored as f16 pairs, half the bytes to read). The including kernel enables
// subgroups, declares binding 4 (`all_w`) and the two weight readers:
//   fn w4(i: u32) -> vec4<f32>  the four weights at float offset i (divisible by 4) of all_w
//   fn s4(i: u32) -> vec4<f32>  the same at offset q.small_w + i (the small tensors, offsets p.at_*)
//
// Fast generation on CPU adapters: one subgroup of 8 lanes per voice runs whole steps, `nsteps` of
// them per dispatch, with no workgroup memory and no barriers (on lavapipe a subgroup is one SIMD
// register, and a barrier or a per-lane read of workgroup memory is costly).
// Lane l owns channels 32k + 4l .. 32k + 4l + 3 of every vector (the residual stream, the skip
// sum, the gate, the head), as vec4s, and reads only the weight columns of those channels; the
// inputs of a matrix-vector product reach every lane by subgroupBroadcast, a register shuffle.
// Same arithmetic, summed in the same order, and the same state layout as gen_voice_loop and the
// layered kernels, so any path can continue another (the gate's product and the softmax's sums
// round differently, so a draw may differ at a near-tie). Needs residual and skip widths divisible
// by 32 (RK, SK below), subgroups of at least 8 lanes, and the packed weights in `all_w` at offsets
// divisible by 4.
//! include lib_generation
//! include lib_sample_categorical
//! include lib_feed_back

override RK: u32;  // residual width / 32 (at most MAX_RK)
override SK: u32;  // skip width / 32 (at most MAX_SK)
const MAX_RK: u32 = 2u;
const MAX_SK: u32 = 4u;

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<uniform> q: LoopParams;
@group(0) @binding(2) var<storage, read_write> state: array<u32>;
@group(0) @binding(3) var<storage, read_write> hist: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> cond: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> classes: array<u32>;
@group(0) @binding(7) var<storage, read> teacher: array<u32>;
@group(0) @binding(8) var<storage, read_write> step_logits: array<vec4<f32>>;

// Every lane's v, in lane order (subgroupBroadcast takes only constant lane indices). The five
// matrix-vector products below are written out, each with its own loops: one helper taking the
// accumulators by pointer made lavapipe keep them in memory and ran many times slower.
fn spread(v: vec4<f32>) -> array<vec4<f32>, 8> {
  return array<vec4<f32>, 8>(
    subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u),
    subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u),
  );
}


@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let b = wg.x;
  let R = RK * 32u;
  let S = SK * 32u;
  let R2 = 2u * R;
  let RS = R + S;
  // This lane's first channel in every block of 32 (the workgroup is 8 invocations; should an
  // implementation number them past 7 in a wider subgroup, they repeat lanes 0-7 and add nothing
  // to the sampling's sums).
  let mine = 4u * (lane % 8u);
  // 8 and 4, from the uniform R rather than written as constants: the compiler then keeps the
  // loops over source lanes and vector components rolled. Fully unrolled, with every weight read a
  // per-lane gather, lavapipe took 80-150 s to compile this kernel on its first dispatch.
  let rolled8 = p.R / (4u * RK);
  let rolled4 = p.R / (8u * RK);
  // The step and the last three inputs live in registers for the whole dispatch; lane 0 writes
  // them back to `state` after every step (feed_back) for the next dispatch and the other paths.
  let t0 = state[b];
  var x0 = bitcast<f32>(state[p.B + b * 4u + ((t0 + 1u) % 4u)]);  // input of step t - 2
  var x1 = bitcast<f32>(state[p.B + b * 4u + ((t0 + 2u) % 4u)]);  // t - 1
  var x2 = bitcast<f32>(state[p.B + b * 4u + ((t0 + 3u) % 4u)]);  // t
  for (var j = 0u; j < q.nsteps; j++) {
    let t = t0 + j;
    if (t >= p.steps) { break; }
    // start conv, then skip_start
    var lv: array<vec4<f32>, MAX_RK>;
    for (var k = 0u; k < RK; k++) {
      let c = 32u * k + mine;
      lv[k] = s4(p.at_start_b + c) + s4(p.at_start_w + c) * x0 + s4(p.at_start_w + R + c) * x1
        + s4(p.at_start_w + 2u * R + c) * x2;
    }
    var sv: array<vec4<f32>, MAX_SK>;
    for (var k = 0u; k < SK; k++) { sv[k] = s4(p.at_skip_start_b + 32u * k + mine); }
    for (var kc = 0u; kc < RK; kc++) {
      let all_x = spread(lv[kc]);
      for (var src = 0u; src < rolled8; src++) {
        let xin = all_x[src];
        for (var e = 0u; e < rolled4; e++) {
          let c = 32u * kc + 4u * src + e;
          for (var k = 0u; k < SK; k++) {
            sv[k] = fma(vec4<f32>(xin[e]), s4(p.at_skip_start_w + c * S + 32u * k + mine), sv[k]);
          }
        }
      }
    }
    let f = t / p.hop;
    let crow = (b * p.frames + f) * p.cond_stride;
    for (var i = 0u; i < p.L; i++) {
      let rows = tap_rows(i, t, b, p);
      let r2 = rows.x;   // row of t - 2d
      let r1 = rows.y;   // row of t - d
      var zs: array<vec4<f32>, MAX_RK>;
      var zt: array<vec4<f32>, MAX_RK>;
      var h2: array<vec4<f32>, MAX_RK>;
      var h1: array<vec4<f32>, MAX_RK>;
      for (var k = 0u; k < RK; k++) {
        let c = 32u * k + mine;
        zs[k] = cond[(crow + i * R2 + c) >> 2u];
        zt[k] = cond[(crow + i * R2 + R + c) >> 2u];
        h2[k] = hist[(r2 + c) >> 2u];
        h1[k] = hist[(r1 + c) >> 2u];
      }
      let wp = q.w_past + i * R2 * R2;
      let wc = q.w_cur + i * R * R2;
      for (var kc = 0u; kc < RK; kc++) {
        let all2 = spread(h2[kc]);
        let all1 = spread(h1[kc]);
        let all0 = spread(lv[kc]);
        for (var src = 0u; src < rolled8; src++) {
          let a2 = all2[src];
          let a1 = all1[src];
          let a0 = all0[src];
          for (var e = 0u; e < rolled4; e++) {
            let c = 32u * kc + 4u * src + e;
            for (var k = 0u; k < RK; k++) {
              let o = 32u * k + mine;
              // the order of the other paths: current tap, then t - d, then t - 2d
              zs[k] = fma(vec4<f32>(a2[e]), w4(wp + c * R2 + o),
                fma(vec4<f32>(a1[e]), w4(wp + (R + c) * R2 + o), fma(vec4<f32>(a0[e]), w4(wc + c * R2 + o), zs[k])));
              zt[k] = fma(vec4<f32>(a2[e]), w4(wp + c * R2 + R + o),
                fma(vec4<f32>(a1[e]), w4(wp + (R + c) * R2 + R + o),
                  fma(vec4<f32>(a0[e]), w4(wc + c * R2 + R + o), zt[k])));
            }
          }
        }
      }
      var gv: array<vec4<f32>, MAX_RK>;
      for (var k = 0u; k < RK; k++) {
        gv[k] = sigmoid4(zs[k]) * tanh4(zt[k]);
        hist[(r2 + 32u * k + mine) >> 2u] = lv[k];  // this step's layer input into the ring (row t mod 2d)
      }
      // residual (not on the last layer) and skip
      let wr = q.w_res_skip + i * R * RS;
      let last = i == p.L - 1u;
      var ra: array<vec4<f32>, MAX_RK>;
      var sa: array<vec4<f32>, MAX_SK>;
      for (var k = 0u; k < RK; k++) { ra[k] = s4(p.at_res_skip_b + i * RS + 32u * k + mine); }
      for (var k = 0u; k < SK; k++) { sa[k] = s4(p.at_res_skip_b + i * RS + R + 32u * k + mine); }
      for (var kc = 0u; kc < RK; kc++) {
        let all_g = spread(gv[kc]);
        for (var src = 0u; src < rolled8; src++) {
          let g = all_g[src];
          for (var e = 0u; e < rolled4; e++) {
            let c = 32u * kc + 4u * src + e;
            if (!last) {
              for (var k = 0u; k < RK; k++) { ra[k] = fma(vec4<f32>(g[e]), w4(wr + c * RS + 32u * k + mine), ra[k]); }
            }
            for (var k = 0u; k < SK; k++) {
              sa[k] = fma(vec4<f32>(g[e]), w4(wr + c * RS + R + 32u * k + mine), sa[k]);
            }
          }
        }
      }
      if (!last) {
        for (var k = 0u; k < RK; k++) { lv[k] += ra[k]; }
      }
      for (var k = 0u; k < SK; k++) { sv[k] += sa[k]; }
    }
    // head: relu, out1 (+ its conditioning), relu, logits
    for (var k = 0u; k < SK; k++) { sv[k] = max(sv[k], vec4<f32>()); }
    let cb = crow + p.L * R2;
    var hv: array<vec4<f32>, MAX_SK>;
    for (var k = 0u; k < SK; k++) { hv[k] = cond[(cb + 32u * k + mine) >> 2u]; }
    for (var kc = 0u; kc < SK; kc++) {
      let all_s = spread(sv[kc]);
      for (var src = 0u; src < rolled8; src++) {
        let h = all_s[src];
        for (var e = 0u; e < rolled4; e++) {
          let c = 32u * kc + 4u * src + e;
          for (var k = 0u; k < SK; k++) {
            hv[k] = fma(vec4<f32>(h[e]), s4(p.at_out1_w + c * S + 32u * k + mine), hv[k]);
          }
        }
      }
    }
    for (var k = 0u; k < SK; k++) { hv[k] = max(hv[k], vec4<f32>()); }
    // logits of classes 32k + 4 * lane + (0..3), k < 8
    var lg: array<vec4<f32>, 8>;
    for (var k = 0u; k < 8u; k++) { lg[k] = s4(p.at_logits_b + 32u * k + mine); }
    for (var kc = 0u; kc < SK; kc++) {
      let all_h = spread(hv[kc]);
      for (var src = 0u; src < rolled8; src++) {
        let h = all_h[src];
        for (var e = 0u; e < rolled4; e++) {
          let c = 32u * kc + 4u * src + e;
          for (var k = 0u; k < 8u; k++) {
            lg[k] = fma(vec4<f32>(h[e]), s4(p.at_logits_w + c * 256u + 32u * k + mine), lg[k]);
          }
        }
      }
    }
    let pos = b * p.steps + t;
    if ((p.flags & 2u) != 0u) {
      for (var k = 0u; k < 8u; k++) { step_logits[pos * 64u + 8u * k + lane % 8u] = lg[k]; }
    }
    let choice = sample_lanes(lg, lane, p.temperature, uniform01_keyed(state[5u * p.B + b], t));
    if (lane == 0u) { feed_back(b, t, choice); }
    var next = choice;
    if ((p.flags & 1u) != 0u) { next = teacher[pos]; }
    x0 = x1;
    x1 = x2;
    x2 = f32(i32(next) - 128) / 128.0;  // as feed_back stores it
  }
}

// sample_categorical (lib_sample_categorical) with the 256 logits spread over the subgroup: lane l
// holds classes 32k + 4l + (0..3) in lg[k]. The CDF runs over the classes in order, block by
// block: the lane's own partial sums, plus the lanes before it (subgroupExclusiveAdd), plus the
// blocks before.
fn sample_lanes(lg: array<vec4<f32>, 8>, lane: u32, temperature: f32, u: f32) -> u32 {
  let counted = lane < 8u;
  var m = lg[0];
  for (var k = 1u; k < 8u; k++) { m = max(m, lg[k]); }
  let mx = subgroupMax(max(max(m.x, m.y), max(m.z, m.w)));
  if (temperature <= 0.0) {
    var best = 256u;  // this lane's lowest class at the maximum (classes ascend with k, then e)
    for (var k = 0u; k < 8u; k++) {
      for (var e = 0u; e < 4u; e++) {
        if (counted && best == 256u && lg[k][e] == mx) { best = 32u * k + 4u * lane + e; }
      }
    }
    return subgroupMin(best);
  }
  var cdf: array<vec4<f32>, 8>;
  var before = 0.0;
  for (var k = 0u; k < 8u; k++) {
    let ex = select(vec4<f32>(), exp((lg[k] - vec4<f32>(mx)) / temperature), counted);
    let own = vec4<f32>(ex.x, ex.x + ex.y, ex.x + ex.y + ex.z, ex.x + ex.y + ex.z + ex.w);
    let lanes_before = subgroupExclusiveAdd(own.w);
    cdf[k] = own + vec4<f32>(before + lanes_before);
    before += subgroupAdd(own.w);
  }
  let target_mass = u * before;
  var count = 0u;
  for (var k = 0u; k < 8u; k++) {
    count += dot(select(vec4<u32>(), vec4<u32>(1u), cdf[k] <= vec4<f32>(target_mass)), vec4<u32>(1u));
  }
  return min(subgroupAdd(select(0u, count, counted)), 255u);
}
