// log_softmax_nll.wgsl for CPU adapters: one row per invocation instead of one workgroup per row.
// On lavapipe a workgroup's barriers are coroutine switches of its 32 subgroups, and the
// workgroup-per-row kernel's 18 barriers a row made it the slowest dispatch of a training step
// (104 ms for 6144 rows of 256 classes on 2 cores); here each invocation runs its row's 256
// classes through an online log-sum-exp (running max, sum rescaled when the max grows), then
// writes the row. Same results within f32 rounding (test/ops/log-softmax-nll.test.ts).

//! include lib_log_softmax_nll

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.y * params.rows_per_y + gid.x;
  if (gid.x >= params.rows_per_y || row >= params.rows) { return; }
  let base = row * params.classes;
  var m = -3.4e38;
  var sum = 0.0;
  for (var c = 0u; c < params.classes; c++) {
    let v = x[base + c];
    if (v > m) {
      sum = sum * exp(m - v) + 1.0;
      m = v;
    } else {
      sum += exp(v - m);
    }
  }
  let lse = m + log(sum);
  for (var c = 0u; c < params.classes; c++) { logp[base + c] = x[base + c] - lse; }
  nll[row] = lse - x[base + min(labels[row], params.classes - 1u)];
}
