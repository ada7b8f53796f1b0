// Shared by the kernels that end a generation step (included with `//! include lib_feed_back`,
// after lib_generation; the including kernel declares `p`, `state`, `classes` and `teacher`). One
// invocation per voice calls it with the sampled class k: the class is recorded, fed back as the
// next input (or the teacher's class is), and the voice's step counter advances.
fn feed_back(b: u32, t: u32, k: u32) {
  let pos = b * p.steps + t;
  classes[pos] = k;
  var next = k;
  if ((p.flags & 1u) != 0u) { next = teacher[pos]; }
  state[p.B + b * 4u + (t % 4u)] = bitcast<u32>(f32(i32(next) - 128) / 128.0);
  state[b] = t + 1u;
}
