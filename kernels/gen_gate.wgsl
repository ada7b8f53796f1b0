// Fast generation, layer i, on the sequential path: the current tap of the dilated conv added to
// the precomputed past taps (which already hold the conditioning and biases), then the gate
// gated = sigmoid(first half) * tanh(second half). Also stores this step's layer input l into the
// layer's history ring (row t mod 2d, which the past taps of this step have already read).
// One thread per 4 gate channels; up to VB voices per voice group (grid y).
//! include lib_generation

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read> past: array<vec4<f32>>;   // [L][B][2R/4]
@group(0) @binding(3) var<storage, read> w_cur: array<vec4<f32>>;  // [L][R in][2R/4]
@group(0) @binding(4) var<storage, read> l_and_s: array<f32>;           // [B][R+S]
@group(0) @binding(5) var<storage, read_write> hist: array<f32>;
@group(0) @binding(6) var<storage, read_write> gated: array<vec4<f32>>; // [B][R/4]

const VB: u32 = 16u;   // voices per voice group: each weight read serves up to VB voices

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let R = p.R;
  let Rq = R / 4u;
  let o4 = gid.x;
  if (o4 >= Rq) { return; }
  let i = p.layer;
  let t = state[0];
  let vg = gid.y * VB;
  let nv = min(VB, p.B - vg);
  let RS = R + p.S;
  let R2q = 2u * Rq;
  let pb = i * p.B * R2q;
  let wb = i * R * R2q;
  let d = dilation_of(i, p.lps);
  let row = ring_base(i, p) + (t % (2u * d)) * p.B * R;
  if (nv == 1u) {
    // a single voice: straight-line code, no voice loop
    var f1 = past[pb + vg * R2q + o4];
    var s1 = past[pb + vg * R2q + Rq + o4];
    for (var c = 0u; c < R; c++) {
      let l = vec4<f32>(l_and_s[vg * RS + c]);
      f1 = fma(l, w_cur[wb + c * R2q + o4], f1);
      s1 = fma(l, w_cur[wb + c * R2q + Rq + o4], s1);
    }
    gated[vg * Rq + o4] = sigmoid4(f1) * tanh4(s1);
    for (var j = 0u; j < 4u; j++) { hist[row + vg * R + o4 * 4u + j] = l_and_s[vg * RS + o4 * 4u + j]; }
    return;
  }
  var fa: array<vec4<f32>, VB>;
  var sa: array<vec4<f32>, VB>;
  for (var v = 0u; v < VB; v++) {
    if (v < nv) {
      fa[v] = past[pb + (vg + v) * R2q + o4];
      sa[v] = past[pb + (vg + v) * R2q + Rq + o4];
    }
  }
  for (var c = 0u; c < R; c++) {
    let wg = w_cur[wb + c * R2q + o4];
    let wt = w_cur[wb + c * R2q + Rq + o4];
    for (var v = 0u; v < VB; v++) {
      if (v < nv) {
        let l = vec4<f32>(l_and_s[(vg + v) * RS + c]);
        fa[v] = fma(l, wg, fa[v]);
        sa[v] = fma(l, wt, sa[v]);
      }
    }
  }
  for (var v = 0u; v < nv; v++) {
    let b = vg + v;
    gated[b * Rq + o4] = sigmoid4(fa[v]) * tanh4(sa[v]);
    for (var j = 0u; j < 4u; j++) { hist[row + b * R + o4 * 4u + j] = l_and_s[b * RS + o4 * 4u + j]; }
  }
}
