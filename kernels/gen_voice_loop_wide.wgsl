// Fast generation for small configs, shaped for GPUs: one workgroup per voice runs whole steps
// (lib_voice_loop), and every product's reduction is split across the workgroup's 256 threads (the
// same products as gen_voice_loop and the layered path, summed in another order). A voice needs no
// dispatch per step and no other compute unit, so B voices fill B compute units.
//! include lib_voice_loop

const WG: u32 = 256u;     // threads per voice (also the classes: one logit each)
var<workgroup> zv: array<f32, 512>;     // the gate's pre-activations [f | s] (2R)
var<workgroup> red: array<f32, 256>;    // one partial sum per thread

// Every matrix-vector product here splits its reduction across the workgroup: for N outputs, NP =
// N rounded up to a power of two (at most WG) outputs at a time, each summed by P = WG / NP threads
// (thread lid: output lid % NP, slice lid / NP, inputs slice, slice + P, ...), the P partials added
// after one barrier. A thread per output with the whole sum serial (gen_voice_loop) leaves a GPU's
// 256-thread workgroup with 2R busy threads (64 of h32_pitch's) in chains of dependent loads per
// layer. On lavapipe this kernel runs 0.53x gen_voice_loop (h32_pitch, 785 vs 1,459 samples/s):
// each barrier there switches 32 fibres, and this one has five a layer where that one has two.
fn out_block(n: u32) -> u32 {
  var np = 1u;
  while (np < n && np < WG) { np *= 2u; }
  return np;
}

// The sum of output (ob + o)'s P partials (red[k * NP + o]), for a thread with o < NP.
fn partials(o: u32, np: u32) -> f32 {
  var acc = 0.0;
  for (var k = 0u; k < WG / np; k++) { acc += red[k * np + o]; }
  return acc;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let b = wg.x;
  let lid = lid3.x;
  let R = p.R;
  let S = p.S;
  let R2 = 2u * R;
  let RS = R + S;
  // the split of each product, from the widths (uniform)
  let np_g = out_block(R2);   // gate: 2R outputs, 3R inputs
  let np_rs = out_block(RS);  // residual | skip: R + S outputs, R inputs
  let np_s = out_block(S);    // skip_start (R inputs) and the head's first layer (S inputs): S outputs
  for (var j = 0u; j < q.nsteps; j++) {
    let t = begin_step(b, lid);
    if (t >= p.steps) { break; }
    // skip_start
    for (var ob = 0u; ob < S; ob += np_s) {
      let o = ob + lid % np_s;
      var acc = 0.0;
      if (o < S) {
        for (var c = lid / np_s; c < R; c += WG / np_s) { acc = fma(lv[c], small_w_at(p.at_skip_start_w + c * S + o), acc); }
      }
      red[lid] = acc;
      workgroupBarrier();
      if (lid < np_s && ob + lid < S) { sv[ob + lid] = small_w_at(p.at_skip_start_b + ob + lid) + partials(lid, np_s); }
      workgroupBarrier();
    }
    let f = t / p.hop;
    let crow = (b * p.frames + f) * p.cond_stride;
    for (var i = 0u; i < p.L; i++) {
      let rows = tap_rows(i, t, b, p);
      let r2 = rows.x;   // row of t - 2d
      let r1 = rows.y;   // row of t - d
      let wp = q.w_past + i * R2 * R2;
      let wc = q.w_cur + i * R * R2;
      // gate pre-activations z[o] (o < 2R: [f | s] share every input row): inputs [x(t-2d) | x(t-d)
      // | l], rows 0..2R of the past taps' weights, then the current tap's R rows
      for (var ob = 0u; ob < R2; ob += np_g) {
        let o = ob + lid % np_g;
        var acc = 0.0;
        if (o < R2) {
          for (var c = lid / np_g; c < 3u * R; c += WG / np_g) {
            if (c < R) {
              acc = fma(hist[r2 + c], all_w[wp + c * R2 + o], acc);
            } else if (c < R2) {
              acc = fma(hist[r1 + c - R], all_w[wp + c * R2 + o], acc);
            } else {
              acc = fma(lv[c - R2], all_w[wc + (c - R2) * R2 + o], acc);
            }
          }
        }
        red[lid] = acc;
        workgroupBarrier();
        if (lid < np_g && ob + lid < R2) { zv[ob + lid] = cond[crow + i * R2 + ob + lid] + partials(lid, np_g); }
        workgroupBarrier();
      }
      for (var o = lid; o < R; o += WG) {
        let zs = zv[o];
        let zt = zv[R + o];
        let e = exp(-2.0 * abs(zt));
        gv[o] = (1.0 / (1.0 + exp(-zs))) * sign(zt) * (1.0 - e) / (1.0 + e);
        // this step's layer input goes into the ring (row t mod 2d, read above)
        hist[r2 + o] = lv[o];
      }
      workgroupBarrier();
      // residual (not on the last layer) and skip
      let wr = q.w_res_skip + i * R * RS;
      for (var ob = 0u; ob < RS; ob += np_rs) {
        let o = ob + lid % np_rs;
        var acc = 0.0;
        if (o < RS) {
          for (var c = lid / np_rs; c < R; c += WG / np_rs) { acc = fma(gv[c], all_w[wr + c * RS + o], acc); }
        }
        red[lid] = acc;
        workgroupBarrier();
        let oo = ob + lid;
        if (lid < np_rs && oo < RS && !(i == p.L - 1u && oo < R)) {
          let v = small_w_at(p.at_res_skip_b + i * RS + oo) + partials(lid, np_rs);
          if (oo < R) { lv[oo] += v; } else { sv[oo - R] += v; }
        }
        workgroupBarrier();
      }
    }
    // head
    for (var c = lid; c < S; c += WG) { sv[c] = max(sv[c], 0.0); }
    workgroupBarrier();
    let cb = crow + p.L * R2;
    for (var ob = 0u; ob < S; ob += np_s) {
      let o = ob + lid % np_s;
      var acc = 0.0;
      if (o < S) {
        for (var c = lid / np_s; c < S; c += WG / np_s) { acc = fma(sv[c], small_w_at(p.at_out1_w + c * S + o), acc); }
      }
      red[lid] = acc;
      workgroupBarrier();
      if (lid < np_s && ob + lid < S) { hv[ob + lid] = max(cond[cb + ob + lid] + partials(lid, np_s), 0.0); }
      workgroupBarrier();
    }
    var logit = small_w_at(p.at_logits_b + lid);
    for (var c = 0u; c < S; c++) { logit = fma(hv[c], small_w_at(p.at_logits_w + c * 256u + lid), logit); }
    finish_step(lid, b, t, logit);
    workgroupBarrier();
    storageBarrier();
  }
}
