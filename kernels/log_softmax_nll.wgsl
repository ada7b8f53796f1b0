// Row-wise log-softmax and the negative log-likelihood of a target class (sparse softmax
// cross-entropy): logp[n, c] = x[n, c] - logsumexp_c x[n, :], nll[n] = -logp[n, target[n]].
// One workgroup per row (rows >= 65536 wrap into the y dimension of the grid).

//! include lib_log_softmax_nll

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wg.y * params.rows_per_y + wg.x;
  if (row >= params.rows) { return; }   // uniform per workgroup, so the barriers below stay valid
  let base = row * params.classes;
  var m = -3.4e38;
  for (var c = lid.x; c < params.classes; c += 256u) { m = max(m, x[base + c]); }
  red[lid.x] = m;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid.x < s) { red[lid.x] = max(red[lid.x], red[lid.x + s]); }
    workgroupBarrier();
  }
  let mx = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var c = lid.x; c < params.classes; c += 256u) { sum += exp(x[base + c] - mx); }
  red[lid.x] = sum;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid.x < s) { red[lid.x] += red[lid.x + s]; }
    workgroupBarrier();
  }
  let lse = mx + log(red[0]);
  for (var c = lid.x; c < params.classes; c += 256u) { logp[base + c] = x[base + c] - lse; }
  if (lid.x == 0u) { nll[row] = lse - x[base + min(labels[row], params.classes - 1u)]; }
}
