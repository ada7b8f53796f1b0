// Fast generation, first dispatch of a step (all voices, all layers at once; or one dispatch per
// layer group where the layers' rings and conditioning are split, lib_generation):
// (a) past taps: for every layer i, past[i, b] = W_i[tap 0]^T h_i[t-2d] + W_i[tap 1]^T h_i[t-d]
//     + cond_i(frame of t), where h_i is layer i's input history and cond_i already holds the
//     cond_map and dilated-conv biases. None of this depends on the current step's activations,
//     so it runs for all 30 layers in one dispatch, off the sequential path (Fast WaveNet).
// (b) start: l = startconv(x[t-3], x[t-2], x[t-1]) and s = skip_start(l) (lib_gen_start_conv).
// Threads [0, group_layers*2R/4) do (a), one output vec4 each; then, in the last group's dispatch,
// R/4 threads write l and S/4 threads s.
// Each thread serves the (up to) VB voices of its voice group (grid y). The including kernel
// (gen_step_start, gen_step_start_f16) declares the past-tap weights w_past (binding 3) and wp4;
// gen_step_start_lanes is the same for CPU adapters with subgroups.
//! include lib_gen_start_conv

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = state[0];
  let R = p.R;
  let R2q = (2u * R) / 4u;
  let vg = gid.y * VB;
  let nv = min(VB, p.B - vg);
  let id = gid.x;
  let n_past = p.group_layers * R2q;   // the bound group's layers
  if (id < n_past) {
    let gi = id / R2q;   // layer within the group
    let i = p.group_first + gi;
    let o4 = id % R2q;
    let f = t / p.hop;
    let co = gi * 2u * R + o4 * 4u;
    let rows = tap_rows(i, t, 0u, p);   // voice 0's rows; voice b's are b * R further
    let r2 = rows.x;   // row of t - 2d
    let r1 = rows.y;   // row of t - d
    let wb = i * 2u * R * R2q + o4;
    if (nv == 1u) {
      // a single voice: straight-line code, no voice loop (the batch-1 case is bandwidth-bound)
      let cr = (vg * p.frames + f) * p.cond_stride + co;
      var a = vec4<f32>(cond[cr], cond[cr + 1u], cond[cr + 2u], cond[cr + 3u]);
      for (var c = 0u; c < R; c++) {
        a = fma(vec4<f32>(hist[r2 + vg * R + c]), wp4(wb + c * R2q),
                fma(vec4<f32>(hist[r1 + vg * R + c]), wp4(wb + (R + c) * R2q), a));
      }
      past[(i * p.B + vg) * R2q + o4] = a;
      return;
    }
    var acc: array<vec4<f32>, VB>;
    for (var v = 0u; v < VB; v++) {
      if (v < nv) {
        let cr = ((vg + v) * p.frames + f) * p.cond_stride + co;
        acc[v] = vec4<f32>(cond[cr], cond[cr + 1u], cond[cr + 2u], cond[cr + 3u]);
      }
    }
    for (var c = 0u; c < R; c++) {
      let w0 = wp4(wb + c * R2q);
      let w1 = wp4(wb + (R + c) * R2q);
      for (var v = 0u; v < VB; v++) {
        if (v < nv) {
          let h = (vg + v) * R + c;
          acc[v] = fma(vec4<f32>(hist[r2 + h]), w0, fma(vec4<f32>(hist[r1 + h]), w1, acc[v]));
        }
      }
    }
    for (var v = 0u; v < nv; v++) { past[(i * p.B + vg + v) * R2q + o4] = acc[v]; }
    return;
  }
  // part (b) once a step: in the last group's dispatch
  if (p.group_first + p.group_layers == p.L) { start_conv_and_skip(id - n_past, vg, nv, t); }
}
