// Shared by the kernels that end a generation step (included with `//! include lib_finish_step`,
// after lib_generation and lib_sample_categorical; the including kernel declares `p`, `state`,
// `classes`, `teacher` and `step_logits`). Every thread of the voice's workgroup passes its
// class's logit: the class is sampled, recorded, fed back as the next input (or the teacher's
// class is), and the voice's step counter advances (lib_feed_back).
//! include lib_feed_back

fn finish_step(lid: u32, b: u32, t: u32, logit: f32) {
  let pos = b * p.steps + t;
  if ((p.flags & 2u) != 0u) { step_logits[pos * 256u + lid] = logit; }
  let k = sample_categorical(lid, logit, p.temperature, uniform01_keyed(state[5u * p.B + b], t));
  if (lid == 0u) { feed_back(b, t, k); }
}
