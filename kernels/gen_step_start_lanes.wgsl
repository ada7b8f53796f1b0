enable subgroups;
// gen_step_start (kernels/lib_gen_step_start.wgsl: the past taps of every layer, then the start
// conv and skip_start) for CPU adapters with subgroups of at least 8 lanes, past-tap weights in
// f32 (gen_step_start_lanes_f16 is the same in f16 with 8 outputs a thread). Part (a) reads each voice's
// history as gen_gate_lanes.wgsl reads its inputs (see its header for why, as measured on
// lavapipe): lane k of a subgroup reads channel c0 + k of both past rows of every voice once per
// block of 8 channels and subgroupShuffle hands it to the other lanes, 8x fewer history reads. The
// same sums in the same order as gen_step_start (so the same values); part (b) is
// lib_gen_start_conv's. On lavapipe (h512_bo16, 10 voices) 2x faster than gen_step_start. Needs R
// divisible by 8 (the host checks).
//! include lib_gen_start_conv

@group(0) @binding(3) var<storage, read> w_past: array<vec4<f32>>;   // [L][2R in][2R/4]

@compute @workgroup_size(64)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(subgroup_invocation_id) sl: u32,
) {
  let t = state[0];
  let R = p.R;
  let R2q = (2u * R) / 4u;
  let vg = wid.y * VB;
  let nv = min(VB, p.B - vg);
  let lane = sl % 8u;   // in a wider subgroup, lanes 8.. repeat lanes 0-7
  let id = gid.x;
  let n_past = p.group_layers * R2q;   // the bound group's layers
  // Every thread runs part (a), those past the last past-tap output on a copy of it (the shuffles
  // need every lane of the subgroup), and stores it only if it is its own.
  let pid = min(id, n_past - 1u);
  let gi = pid / R2q;   // layer within the group
  let i = p.group_first + gi;
  let o4 = pid % R2q;
  let f = t / p.hop;
  let co = gi * 2u * R + o4 * 4u;
  let rows = tap_rows(i, t, 0u, p);   // voice 0's rows; voice b's are b * R further
  let r2 = rows.x;   // row of t - 2d
  let r1 = rows.y;   // row of t - d
  let wb = i * 2u * R * R2q + o4;
  var acc: array<vec4<f32>, VB>;
  var h2v: array<f32, VB>;   // this lane's channel of the block at t - 2d, per voice
  var h1v: array<f32, VB>;   // and at t - d
  for (var v = 0u; v < VB; v++) {
    if (v < nv) {
      let cr = ((vg + v) * p.frames + f) * p.cond_stride + co;
      acc[v] = vec4<f32>(cond[cr], cond[cr + 1u], cond[cr + 2u], cond[cr + 3u]);
    }
  }
  for (var c0 = 0u; c0 < R; c0 += 8u) {
    for (var v = 0u; v < VB; v++) {
      if (v < nv) {
        let h = (vg + v) * R + c0 + lane;
        h2v[v] = hist[r2 + h];
        h1v[v] = hist[r1 + h];
      }
    }
    for (var k = 0u; k < 8u; k++) {
      let c = c0 + k;
      let w0 = w_past[wb + c * R2q];
      let w1 = w_past[wb + (R + c) * R2q];
      for (var v = 0u; v < VB; v++) {
        if (v < nv) {
          let h2 = vec4<f32>(subgroupShuffle(h2v[v], k));
          let h1 = vec4<f32>(subgroupShuffle(h1v[v], k));
          acc[v] = fma(h2, w0, fma(h1, w1, acc[v]));
        }
      }
    }
  }
  if (id < n_past) {
    for (var v = 0u; v < nv; v++) { past[(i * p.B + vg + v) * R2q + o4] = acc[v]; }
    return;
  }
  // part (b) once a step: in the last group's dispatch
  if (p.group_first + p.group_layers == p.L) { start_conv_and_skip(id - n_past, vg, nv, t); }
}
