// Fast generation, layer i, on the sequential path: the current tap of the dilated conv added to
// the precomputed past taps (which already hold the conditioning and biases), then the gate
// gated = sigmoid(first half) * tanh(second half). Also stores this step's layer input l into the
// layer's history ring (row t mod 2d, which the past taps of this step have already read).
// One thread per 4 gate channels; up to VB voices per voice group (grid y). The including kernel
// declares w_cur and wc4: gen_gate (f32), gen_gate_f16 (f16 pairs).
//! include lib_gen_gate

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let R = p.R;
  let Rq = R / 4u;
  let o4 = gid.x;
  if (o4 >= Rq) { return; }
  let vg = gid.y * VB;
  let nv = min(VB, p.B - vg);
  let RS = R + p.S;
  let R2q = 2u * Rq;
  let at = gate_layer();
  if (nv == 1u) {
    gate_one_voice(vg, o4, at.pb, at.wb, at.row);
    return;
  }
  var fa: array<vec4<f32>, VB>;
  var sa: array<vec4<f32>, VB>;
  for (var v = 0u; v < VB; v++) {
    if (v < nv) {
      fa[v] = past[at.pb + (vg + v) * R2q + o4];
      sa[v] = past[at.pb + (vg + v) * R2q + Rq + o4];
    }
  }
  for (var c = 0u; c < R; c++) {
    let wg = wc4(at.wb + c * R2q + o4);
    let wt = wc4(at.wb + c * R2q + Rq + o4);
    for (var v = 0u; v < VB; v++) {
      if (v < nv) {
        let l = vec4<f32>(l_and_s[(vg + v) * RS + c]);
        fa[v] = fma(l, wg, fa[v]);
        sa[v] = fma(l, wt, sa[v]);
      }
    }
  }
  for (var v = 0u; v < nv; v++) { store_gate(vg + v, o4, fa[v], sa[v], at.row); }
}
