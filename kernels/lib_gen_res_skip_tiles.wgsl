// Fast generation, layer i: the residual and skip 1x1 projections of the gate output in one
// matvec against [res_i | skip_i] ([R, R+S]), accumulated into l_and_s = [l | s]. The last layer's
// residual feeds nothing and is skipped. One thread per 4 outputs, up to VB voices per voice group.
// The including kernel declares the weights w_res_skip (binding 1) and wrs4, which reads vec4 i of
// them as f32: gen_res_skip (f32), gen_res_skip_f16 (f16 pairs).
//! include lib_generation

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(2) var<storage, read> small_w: array<f32>;
@group(0) @binding(3) var<storage, read> gated: array<f32>;           // [B][R]
@group(0) @binding(4) var<storage, read_write> l_and_s: array<vec4<f32>>; // [B][(R+S)/4]

const VB: u32 = 16u;   // voices per voice group: each weight read serves up to VB voices

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let R = p.R;
  let Q = (R + p.S) / 4u;
  let o4 = gid.x;
  if (o4 >= Q) { return; }
  let i = p.layer;
  if (i == p.L - 1u && o4 < R / 4u) { return; }   // last residual: unused
  let vg = gid.y * VB;
  let nv = min(VB, p.B - vg);
  let bo = p.at_res_skip_b + i * (R + p.S) + o4 * 4u;
  let bias = vec4<f32>(small_w[bo], small_w[bo + 1u], small_w[bo + 2u], small_w[bo + 3u]);
  let wb = i * R * Q + o4;
  if (nv == 1u) {
    // a single voice: straight-line code, no voice loop
    var a = bias;
    for (var c = 0u; c < R; c++) { a = fma(vec4<f32>(gated[vg * R + c]), wrs4(wb + c * Q), a); }
    l_and_s[vg * Q + o4] += a;
    return;
  }
  var acc: array<vec4<f32>, VB>;
  for (var v = 0u; v < VB; v++) { acc[v] = bias; }
  for (var c = 0u; c < R; c++) {
    let w = wrs4(wb + c * Q);
    for (var v = 0u; v < VB; v++) {
      if (v < nv) { acc[v] = fma(vec4<f32>(gated[(vg + v) * R + c]), w, acc[v]); }
    }
  }
  for (var v = 0u; v < nv; v++) { l_and_s[(vg + v) * Q + o4] += acc[v]; }
}
