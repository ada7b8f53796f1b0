// Fast generation, layer i: the residual and skip 1x1 projections of the gate output in one
// matvec against [res_i | skip_i] ([R, R+S]), accumulated into ls = [l | s]. The last layer's
// residual feeds nothing and is skipped. One thread per 4 outputs, 4 voices per voice group.
//! include lib_generation

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<storage, read> w_rs: array<vec4<f32>>;  // [L][R in][(R+S)/4]
@group(0) @binding(2) var<storage, read> gw: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;           // [B][R]
@group(0) @binding(4) var<storage, read_write> ls: array<vec4<f32>>; // [B][(R+S)/4]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let R = p.R;
  let Q = (R + p.S) / 4u;
  let o4 = gid.x;
  if (o4 >= Q) { return; }
  let i = p.layer;
  if (i == p.L - 1u && o4 < R / 4u) { return; }   // last residual: unused
  let vg = gid.y * 4u;
  let nv = min(4u, p.B - vg);
  let b0 = min(vg, p.B - 1u); let b1 = min(vg + 1u, p.B - 1u);
  let b2 = min(vg + 2u, p.B - 1u); let b3 = min(vg + 3u, p.B - 1u);
  let bo = p.gw_rs_b + i * (R + p.S) + o4 * 4u;
  let bias = vec4<f32>(gw[bo], gw[bo + 1u], gw[bo + 2u], gw[bo + 3u]);
  var a0 = bias; var a1 = bias; var a2 = bias; var a3 = bias;
  let wb = i * R * Q + o4;
  if (nv == 1u) {
    for (var c = 0u; c < R; c++) { a0 = fma(vec4<f32>(g[b0 * R + c]), w_rs[wb + c * Q], a0); }
    ls[b0 * Q + o4] += a0;
    return;
  }
  for (var c = 0u; c < R; c++) {
    let w = w_rs[wb + c * Q];
    a0 = fma(vec4<f32>(g[b0 * R + c]), w, a0);
    a1 = fma(vec4<f32>(g[b1 * R + c]), w, a1);
    a2 = fma(vec4<f32>(g[b2 * R + c]), w, a2);
    a3 = fma(vec4<f32>(g[b3 * R + c]), w, a3);
  }
  let acc = array<vec4<f32>, 4>(a0, a1, a2, a3);
  for (var v = 0u; v < nv; v++) {
    let b = vg + v;
    ls[b * Q + o4] += acc[v];
  }
}
