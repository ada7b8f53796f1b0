// gen_gate (current tap + past taps, the gate, the ring write; see kernels/gen_gate.wgsl) shaped for
// CPU adapters with subgroups of at least 8 lanes (lavapipe: a subgroup is one 8-wide SIMD
// register). There, every per-lane read of memory is a scalar load per lane, each behind its own
// branches, and the voice tile's inputs l[v][c], which all lanes of gen_gate read alike, cost 8
// such loads per voice and channel. Here lane k of a subgroup reads channel c0 + k of every voice
// once per block of 8 channels, and subgroupShuffle hands it to the other lanes (a register
// shuffle): 8x fewer input reads. Everything else is gen_gate's: one thread per 4 gate channels,
// up to VB voices per voice group (grid y), the same sums in the same order (so the same values).
// Two things measured on lavapipe shape the loops: a loop over voices that runs exactly over its
// array's length is unrolled by the compiler, so the accumulators sit at fixed places (loops
// shorter than their arrays were not unrolled and ran 2x slower), and the loop over the block's 8
// channels stays rolled (written out, or with more rows or voices per iteration, the larger body
// ran up to 2x slower; so did 8-16 voices kept in separate variables). Needs R divisible by 8 (the
// host checks); the workgroup size WG (a multiple of 8) is chosen by the host. The including kernel
// enables subgroups and declares w_cur, wc4 (four weights at vec4 index i) and wc8 (eight at index j,
// in eights): f32 in gen_gate_lanes, f16 pairs in gen_gate_lanes_f16.
//! include lib_gen_gate
//! include lib_eight_weights

override WG: u32 = 64u;   // threads per workgroup

// A voice group of one voice b (gate_one_voice's sums, in its order), thread o8 making gate vec4s
// 2 o8 and 2 o8 + 1 of both halves: each weight row read 16 bytes at a time (wc8), where
// gate_one_voice reads 8. On lavapipe at batch 1 (h512_bo16, f16) a layer took 120 us against 139:
// a lone voice's step is bound by the per-lane reads of its weights, and a wider read brings more.
fn gate_one_voice_wide(b: u32, o8: u32, pb: u32, wb: u32, row: u32) {
  let R = p.R;
  let Rq = R / 4u;
  let R2q = 2u * Rq;
  let RS = R + p.S;
  let at = pb + b * R2q + 2u * o8;
  var f0 = past[at];
  var f1 = past[at + 1u];
  var s0 = past[at + Rq];
  var s1 = past[at + Rq + 1u];
  for (var c = 0u; c < R; c++) {
    let l = vec4<f32>(l_and_s[b * RS + c]);
    let w_row = (wb + c * R2q) / 2u;   // channel c's weight row, in eights of weights (wb, R2q, Rq even)
    let wf = wc8(w_row + o8);
    let wt = wc8(w_row + Rq / 2u + o8);
    f0 = fma(l, wf.a, f0);
    f1 = fma(l, wf.b, f1);
    s0 = fma(l, wt.a, s0);
    s1 = fma(l, wt.b, s1);
  }
  store_gate(b, 2u * o8, f0, s0, row);
  store_gate(b, 2u * o8 + 1u, f1, s1, row);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(subgroup_invocation_id) sl: u32,
) {
  let R = p.R;
  let Rq = R / 4u;
  // Threads past the last output keep step with their subgroup (the shuffles need every lane)
  // on a copy of the last output and store nothing.
  let live = gid.x < Rq;
  let o4 = min(gid.x, Rq - 1u);
  let lane = sl % 8u;   // in a wider subgroup, lanes 8.. repeat lanes 0-7
  let vg = wid.y * VB;
  let nv = min(VB, p.B - vg);
  let RS = R + p.S;
  let R2q = 2u * Rq;
  let at = gate_layer();
  if (nv == 1u) {
    // a single voice: straight-line code (no reuse to gain from the shuffles), 16 outputs a thread
    if (gid.x < Rq / 2u) { gate_one_voice_wide(vg, gid.x, at.pb, at.wb, at.row); }
    return;
  }
  var fa: array<vec4<f32>, VB>;
  var sa: array<vec4<f32>, VB>;
  var lv: array<f32, VB>;   // this lane's channel of the block, per voice
  for (var v = 0u; v < VB; v++) {
    if (v < nv) {
      fa[v] = past[at.pb + (vg + v) * R2q + o4];
      sa[v] = past[at.pb + (vg + v) * R2q + Rq + o4];
    }
  }
  for (var c0 = 0u; c0 < R; c0 += 8u) {
    for (var v = 0u; v < VB; v++) {
      if (v < nv) { lv[v] = l_and_s[(vg + v) * RS + c0 + lane]; }
    }
    for (var k = 0u; k < 8u; k++) {
      let c = c0 + k;
      let wg = wc4(at.wb + c * R2q + o4);
      let wt = wc4(at.wb + c * R2q + Rq + o4);
      for (var v = 0u; v < VB; v++) {
        if (v < nv) {
          let l = vec4<f32>(subgroupShuffle(lv[v], k));
          fa[v] = fma(l, wg, fa[v]);
          sa[v] = fma(l, wt, sa[v]);
        }
      }
    }
  }
  if (!live) { return; }
  for (var v = 0u; v < nv; v++) { store_gate(vg + v, o4, fa[v], sa[v], at.row); }
}
