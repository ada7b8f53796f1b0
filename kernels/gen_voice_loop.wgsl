// Fast generation for small configs, shaped for CPU adapters: one workgroup per voice runs whole
// steps (lib_voice_loop), each output of a product summed serially by one thread. Same arithmetic as
// the layered path (gen_step_start, gen_gate, gen_res_skip, gen_head_sample). On a GPU this leaves
// most of the workgroup idle in chains of dependent loads: gen_voice_loop_wide splits the sums.
//! include lib_voice_loop

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let b = wg.x;
  let lid = lid3.x;
  let R = p.R;
  let S = p.S;
  let R2 = 2u * R;
  for (var j = 0u; j < q.nsteps; j++) {
    let t = begin_step(b, lid);
    if (t >= p.steps) { break; }
    // skip_start
    for (var o = lid; o < S; o += 256u) {
      var acc = small_w_at(p.at_skip_start_b + o);
      for (var c = 0u; c < R; c++) { acc = fma(lv[c], small_w_at(p.at_skip_start_w + c * S + o), acc); }
      sv[o] = acc;
    }
    let f = t / p.hop;
    let crow = (b * p.frames + f) * p.cond_stride;
    for (var i = 0u; i < p.L; i++) {
      let rows = tap_rows(i, t, b, p);
      let r2 = rows.x;   // row of t - 2d
      let r1 = rows.y;   // row of t - d
      workgroupBarrier();
      // gate: channel o and its tanh partner R + o
      for (var o = lid; o < R; o += 256u) {
        var zs = cond[crow + i * R2 + o];
        var zt = cond[crow + i * R2 + R + o];
        let wp = q.w_past + i * R2 * R2;
        let wc = q.w_cur + i * R * R2;
        for (var c = 0u; c < R; c++) {
          let h2 = hist[r2 + c];
          let h1 = hist[r1 + c];
          let x = lv[c];
          zs = fma(h2, all_w[wp + c * R2 + o],
               fma(h1, all_w[wp + (R + c) * R2 + o], fma(x, all_w[wc + c * R2 + o], zs)));
          zt = fma(h2, all_w[wp + c * R2 + R + o],
               fma(h1, all_w[wp + (R + c) * R2 + R + o], fma(x, all_w[wc + c * R2 + R + o], zt)));
        }
        let e = exp(-2.0 * abs(zt));
        gv[o] = (1.0 / (1.0 + exp(-zs))) * sign(zt) * (1.0 - e) / (1.0 + e);
      }
      workgroupBarrier();
      // this step's layer input goes into the ring (row t mod 2d, already read above)
      for (var c = lid; c < R; c += 256u) { hist[r2 + c] = lv[c]; }
      // residual (not on the last layer) and skip
      let RS = R + S;
      let wr = q.w_res_skip + i * R * RS;
      for (var o = lid; o < RS; o += 256u) {
        if (i == p.L - 1u && o < R) { continue; }
        var acc = small_w_at(p.at_res_skip_b + i * RS + o);
        for (var c = 0u; c < R; c++) { acc = fma(gv[c], all_w[wr + c * RS + o], acc); }
        if (o < R) { lv[o] += acc; } else { sv[o - R] += acc; }
      }
    }
    workgroupBarrier();
    // head
    for (var c = lid; c < S; c += 256u) { sv[c] = max(sv[c], 0.0); }
    workgroupBarrier();
    let cb = crow + p.L * R2;
    for (var o = lid; o < S; o += 256u) {
      var acc = cond[cb + o];
      for (var c = 0u; c < S; c++) { acc = fma(sv[c], small_w_at(p.at_out1_w + c * S + o), acc); }
      hv[o] = max(acc, 0.0);
    }
    workgroupBarrier();
    var logit = small_w_at(p.at_logits_b + lid);
    for (var c = 0u; c < S; c++) { logit = fma(hv[c], small_w_at(p.at_logits_w + c * 256u + lid), logit); }
    finish_step(lid, b, t, logit);
    workgroupBarrier();
    storageBarrier();
  }
}
