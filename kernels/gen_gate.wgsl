// Fast generation, layer i, on the sequential path: the current tap of the dilated conv added to
// the precomputed past taps (which already hold the conditioning and biases), then the gate
// g = sigmoid(first half) * tanh(second half). Also stores this step's layer input l into the
// layer's history ring (row t mod 2d, which the past taps of this step have already read).
// One thread per 4 gate channels; 4 voices per voice group (grid y).
//! include lib_generation

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read> past: array<vec4<f32>>;   // [L][B][2R/4]
@group(0) @binding(3) var<storage, read> w_cur: array<vec4<f32>>;  // [L][R in][2R/4]
@group(0) @binding(4) var<storage, read> ls: array<f32>;           // [B][R+S]
@group(0) @binding(5) var<storage, read_write> hist: array<f32>;
@group(0) @binding(6) var<storage, read_write> g: array<vec4<f32>>; // [B][R/4]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let R = p.R;
  let Rq = R / 4u;
  let o4 = gid.x;
  if (o4 >= Rq) { return; }
  let i = p.layer;
  let t = state[0];
  let vg = gid.y * 4u;
  let nv = min(4u, p.B - vg);
  let b0 = min(vg, p.B - 1u); let b1 = min(vg + 1u, p.B - 1u);
  let b2 = min(vg + 2u, p.B - 1u); let b3 = min(vg + 3u, p.B - 1u);
  let RS = R + p.S;
  let R2q = 2u * Rq;
  let pb = i * p.B * R2q;
  var f0 = past[pb + b0 * R2q + o4]; var s0 = past[pb + b0 * R2q + Rq + o4];
  var f1 = past[pb + b1 * R2q + o4]; var s1 = past[pb + b1 * R2q + Rq + o4];
  var f2 = past[pb + b2 * R2q + o4]; var s2 = past[pb + b2 * R2q + Rq + o4];
  var f3 = past[pb + b3 * R2q + o4]; var s3 = past[pb + b3 * R2q + Rq + o4];
  let wb = i * R * R2q;
  if (nv == 1u) {
    for (var c = 0u; c < R; c++) {
      let l0 = vec4<f32>(ls[b0 * RS + c]);
      f0 = fma(l0, w_cur[wb + c * R2q + o4], f0);
      s0 = fma(l0, w_cur[wb + c * R2q + Rq + o4], s0);
    }
  } else {
  for (var c = 0u; c < R; c++) {
    let wg = w_cur[wb + c * R2q + o4];
    let wt = w_cur[wb + c * R2q + Rq + o4];
    let l0 = vec4<f32>(ls[b0 * RS + c]); let l1 = vec4<f32>(ls[b1 * RS + c]);
    let l2 = vec4<f32>(ls[b2 * RS + c]); let l3 = vec4<f32>(ls[b3 * RS + c]);
    f0 = fma(l0, wg, f0); s0 = fma(l0, wt, s0);
    f1 = fma(l1, wg, f1); s1 = fma(l1, wt, s1);
    f2 = fma(l2, wg, f2); s2 = fma(l2, wt, s2);
    f3 = fma(l3, wg, f3); s3 = fma(l3, wt, s3);
  }
  }
  let d = dilation_of(i, p.lps);
  let row = ring_base(i, p) + (t % (2u * d)) * p.B * R;
  let gs = array<vec4<f32>, 4>(sigmoid4(f0) * tanh4(s0), sigmoid4(f1) * tanh4(s1), sigmoid4(f2) * tanh4(s2), sigmoid4(f3) * tanh4(s3));
  for (var v = 0u; v < nv; v++) {
    let b = vg + v;
    g[b * Rq + o4] = gs[v];
    for (var j = 0u; j < 4u; j++) { hist[row + b * R + o4 * 4u + j] = ls[b * RS + o4 * 4u + j]; }
  }
}
