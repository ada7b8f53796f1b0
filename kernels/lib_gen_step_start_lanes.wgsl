// gen_step_start (kernels/lib_gen_step_start.wgsl: the past taps of every layer, then the start
// conv and skip_start) for CPU adapters with subgroups of at least 8 lanes. Part (a) reads each
// voice's history as gen_gate_lanes.wgsl reads its inputs (see its header for why, as measured on
// lavapipe): lane k of a subgroup reads channel c0 + k of both past rows of every voice once per
// block of 8 channels and subgroupShuffle hands it to the other lanes, 8x fewer history reads. Each
// thread makes 8 past-tap outputs (two vec4s, two accumulators per voice), which on lavapipe,
// reading weights lane by lane, made the whole step 1.09-1.16x faster than 4 outputs in f32 and in
// f16 pairs (bench/layered-kernels.mjs, h512_bo16 at batch 16 and 32; in f16 one 16-byte read per
// lane brings a channel's 8 weights, and alone the loop ran 1.09-1.34x faster,
// bench/matvec-mappings.mjs). The including kernel
// enables subgroups and declares the past-tap weights w_past (binding 3) and wp8, which reads
// outputs 8 o8 .. 8 o8 + 7 of a weight row: f32 in gen_step_start_lanes, f16 pairs in
// gen_step_start_lanes_f16. The same sums in the same order as gen_step_start (so the same values
// in f32); part (b) is lib_gen_start_conv's. Needs R divisible by 8 (the host checks).
// The 8 lanes that share their history reads must all be of one layer (each layer's rows differ),
// so each layer gets its R/4 outputs of 8 rounded up to whole groups of 8 threads, the spare ones
// computing a copy of the layer's last output and storing nothing; and a lane takes the shared
// reads from its own group of 8, in a subgroup of any width. (Packed without that padding, a
// residual width whose R/4 is no multiple of 8, such as 40 or 48, mixed two layers' histories in
// one group: wrong logits at every batch that runs these kernels.) The host sizes the workgroup
// (WG) to divide a layer's threads, so a workgroup is all of one layer and its layer index comes
// from workgroup_id, alike for the whole workgroup: lavapipe then computes the layer's addresses
// once for the subgroup instead of lane by lane (h512_bo16's past taps, 16 voices: this kernel
// 1.10x, the loop alone in bench/matvec-mappings.mjs 1.18-1.19x, against the layer taken from
// each invocation's id; one run in five on the 2-core VM had it the other way).
//! include lib_gen_start_conv
//! include lib_eight_weights

fn cond4(at: u32) -> vec4<f32> { return vec4<f32>(cond[at], cond[at + 1u], cond[at + 2u], cond[at + 3u]); }

override WG: u32 = 64u;   // threads per workgroup: divides a layer's threads, R2t (the host's stepStartWorkgroup)

@compute @workgroup_size(WG)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(subgroup_invocation_id) sl: u32,
) {
  let t = state[0];
  let R = p.R;
  let R2q = (2u * R) / 4u;
  let R2e = R2q / 2u;   // outputs of 8 per layer
  let R2t = ((R2e + 7u) / 8u) * 8u;   // threads per layer: whole groups of 8
  let vg = wid.y * VB;
  let nv = min(VB, p.B - vg);
  let lane = sl % 8u;   // this lane's place in its group of 8
  let group0 = sl - lane;   // the group's first lane in the subgroup
  let id = gid.x;
  let n_past = p.group_layers * R2t;   // the bound group's layers
  let first = wid.x * WG;   // the workgroup's first thread
  // part (b) once a step, in the last group's dispatch, by the threads after the past taps, whole
  // workgroups of them (n_past is a multiple of WG). Both tests read workgroup_id, alike across
  // the workgroup, so the shuffles below stay in uniform control flow.
  if (first >= n_past) {
    if (p.group_first + p.group_layers == p.L) { start_conv_and_skip(id - n_past, vg, nv, t); }
    return;
  }
  // Part (a): the workgroup's layer, and this thread's place in it. Threads past the layer's last
  // output (its R2t is rounded up to whole groups of 8) run on a copy of it, as the shuffles need
  // every lane of the subgroup, and store nothing.
  let gi = first / R2t;   // layer within the group
  let i = p.group_first + gi;
  let o = id - gi * R2t;
  let own = o < R2e;
  let o8 = min(o, R2e - 1u);
  let f = t / p.hop;
  let co = gi * 2u * R + o8 * 8u;
  let rows = tap_rows(i, t, 0u, p);   // voice 0's rows; voice b's are b * R further
  let r2 = rows.x;   // row of t - 2d
  let r1 = rows.y;   // row of t - d
  let wb = i * 2u * R * R2e + o8;
  var acc_a: array<vec4<f32>, VB>;   // outputs 8 o8 .. 8 o8 + 3
  var acc_b: array<vec4<f32>, VB>;   // and the next 4
  var h2v: array<f32, VB>;   // this lane's channel of the block at t - 2d, per voice
  var h1v: array<f32, VB>;   // and at t - d
  for (var v = 0u; v < VB; v++) {
    if (v < nv) {
      let cr = ((vg + v) * p.frames + f) * p.cond_stride + co;
      acc_a[v] = cond4(cr);
      acc_b[v] = cond4(cr + 4u);
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
      let w0 = wp8(wb + c * R2e);
      let w1 = wp8(wb + (R + c) * R2e);
      let w0a = w0.a;
      let w0b = w0.b;
      let w1a = w1.a;
      let w1b = w1.b;
      for (var v = 0u; v < VB; v++) {
        if (v < nv) {
          let h2 = vec4<f32>(subgroupShuffle(h2v[v], group0 + k));
          let h1 = vec4<f32>(subgroupShuffle(h1v[v], group0 + k));
          acc_a[v] = fma(h2, w0a, fma(h1, w1a, acc_a[v]));
          acc_b[v] = fma(h2, w0b, fma(h1, w1b, acc_b[v]));
        }
      }
    }
  }
  if (!own) { return; }
  for (var v = 0u; v < nv; v++) {
    let at = (i * p.B + vg + v) * R2q + 2u * o8;
    past[at] = acc_a[v];
    past[at + 1u] = acc_b[v];
  }
}
