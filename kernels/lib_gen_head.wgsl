// Shared by the kernels that end a generation step with the output head (included with
// `//! include lib_gen_head`, after lib_generation, lib_sample_categorical and lib_finish_step; the
// including kernel declares `p`, `state`, `small_w`, `cond`, `classes`, `teacher` and `step_logits`,
// runs one 256-thread workgroup per voice and first fills `hs` with relu(skip sum)):
// out1 + cond_out1 (frame) -> relu -> logits, then softmax sampling and feedback (finish_step).

var<workgroup> hs: array<f32, 1024>;
var<workgroup> h2: array<f32, 1024>;

// Call after `hs` holds relu(s) and a workgroupBarrier.
fn head_and_sample(lid: u32, b: u32, t: u32) {
  let S = p.S;
  let f = t / p.hop;
  // cond_out1 (+ out1 bias): the last group's columns after its layers'
  let cb = (b * p.frames + f) * p.cond_stride + p.group_layers * 2u * p.R;
  for (var o = lid; o < S; o += 256u) {
    var acc = cond[cb + o];
    for (var c = 0u; c < S; c++) { acc = fma(hs[c], small_w[p.at_out1_w + c * S + o], acc); }
    h2[o] = max(acc, 0.0);
  }
  workgroupBarrier();
  var logit = small_w[p.at_logits_b + lid];
  for (var c = 0u; c < S; c++) { logit = fma(h2[c], small_w[p.at_logits_w + c * 256u + lid], logit); }
  finish_step(lid, b, t, logit);
}
