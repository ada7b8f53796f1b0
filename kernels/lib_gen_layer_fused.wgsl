// Fast generation, one dispatch per layer on the sequential path (gen_layer_fused*.wgsl include
// this and declare the two weight buffers and their readers wg4 / wr4, in f32 or as f16 pairs).
//
// Layer i's current tap needs l_i = l_{i-1} + res_{i-1}(g_{i-1}) + b, which is the previous layer's
// residual output, so the plain path spends two dependent dispatches per layer. Here the residual
// projection is folded into the tap: W_cur(i) l_i = W_cur(i) l_{i-1} + (W_res(i-1) W_cur(i)) g_{i-1}
// + W_cur(i) b_{i-1}, with the product precomputed (w_gate rows [R, 2R)) and the constant term folded
// into the per-frame conditioning. So dispatch i computes, from l_{i-1} and g_{i-1} alone:
//   gate tiles: g_i = sigmoid(f) * tanh(s), [f | s] = past_i + [l_{i-1} | g_{i-1}] @ w_gate_i;
//   res/skip tiles: l_i = l_{i-1} + g_{i-1} @ res_{i-1} + b (also pushed into layer i's ring)
//   and s += g_{i-1} @ skip_{i-1} + b;
// and a step is L + 2 dispatches (start, L layers, head, which adds the last layer's skip).
// Layer 0 has no fold: its tiles read l_0 and s from the start kernel's l_and_s and copy them over.
//
// Shaped for wide GPUs: a workgroup owns C4 output vec4s of one voice tile (VT voices) and splits
// the reduction into KS slices (thread = slice * C4 + output, so a slice's threads read one
// contiguous run of a weight row), summed in workgroup memory after one barrier. Batch 1 of h512_bo16 then
// runs (512 + 768) / 4 / C4 workgroups per layer instead of 4-5. C4, KS and VT are override constants
// chosen per adapter by timing (src/generate/tuning.ts).
//
// Activations: a_in / a_out hold per voice [l (R) | s (S) | g (R)] (stride 2R + S); the two buffers
// swap roles every layer. Layer 0 reads the start kernel's [l | s] (stride R + S) instead.
//! include lib_generation

override C4: u32 = 4u;    // output vec4s per workgroup (a power of two)
override WG: u32 = 64u;   // threads per workgroup: the reduction splits KS = WG / C4 ways (KS >= VT, WG * VT <= 512)
override VT: u32 = 1u;    // voices per workgroup: one weight read serves them all (at most VT_MAX)
const VT_MAX: u32 = 8u;

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read> past: array<vec4<f32>>;     // [L][B][2R/4]
@group(0) @binding(5) var<storage, read> small_w: array<f32>;
@group(0) @binding(6) var<storage, read> a_in: array<f32>;           // [B][2R+S] ([B][R+S] at layer 0)
@group(0) @binding(7) var<storage, read_write> a_out: array<f32>;    // [B][2R+S]
@group(0) @binding(8) var<storage, read_write> hist: array<f32>;

// Every thread's partial sums, all voices at once: [voice][2][WG], sized by the overrides (at most
// 1024 vec4, 16 KB: SwiftShader pays for every byte of workgroup memory at each workgroup start).
var<workgroup> red: array<vec4<f32>, WG * VT * 2u>;

// After one barrier, thread (output o, slice k) with k < nv sums voice k's KS partials of output o
// (part 0 or 1): one barrier per dispatch, where a tree per voice cost SwiftShader ~10x.
fn slice_sum(o: u32, v: u32, part: u32) -> vec4<f32> {
  let KS = WG / C4;
  let base = (v * 2u + part) * WG + o;
  var acc = vec4<f32>(0.0);
  for (var j = 0u; j < KS; j++) { acc += red[base + j * C4]; }
  return acc;
}

fn store4(at: u32, v: vec4<f32>) {
  a_out[at] = v.x;
  a_out[at + 1u] = v.y;
  a_out[at + 2u] = v.z;
  a_out[at + 3u] = v.w;
}

fn load4(at: u32) -> vec4<f32> { return vec4<f32>(a_in[at], a_in[at + 1u], a_in[at + 2u], a_in[at + 3u]); }

fn push_ring(at: u32, v: vec4<f32>) {
  hist[at] = v.x;
  hist[at + 1u] = v.y;
  hist[at + 2u] = v.z;
  hist[at + 3u] = v.w;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let KS = WG / C4;
  let o = lid % C4;
  let k = lid / C4;
  let R = p.R;
  let S = p.S;
  let Rq = R / 4u;
  let R2q = 2u * Rq;
  let i = p.layer;
  let t = state[0];
  let W = 2u * R + S;                       // a_out stride
  let Win = select(W, R + S, i == 0u);      // a_in stride
  let vg = wg.y * VT;
  let nv = min(VT, p.B - vg);
  let gate_tiles = Rq / C4;
  if (wg.x < gate_tiles) {
    let o4 = wg.x * C4 + o;
    var fa: array<vec4<f32>, VT_MAX>;
    var sa: array<vec4<f32>, VT_MAX>;
    for (var v = 0u; v < VT_MAX; v++) { fa[v] = vec4<f32>(0.0); sa[v] = vec4<f32>(0.0); }
    let wb = i * 2u * R * R2q;
    for (var c = k; c < R; c += KS) {       // rows [0, R): W_cur(i) against l_{i-1}
      let wf = wg4(wb + c * R2q + o4);
      let ws = wg4(wb + c * R2q + Rq + o4);
      for (var v = 0u; v < nv; v++) {
        let x = vec4<f32>(a_in[(vg + v) * Win + c]);
        fa[v] = fma(x, wf, fa[v]);
        sa[v] = fma(x, ws, sa[v]);
      }
    }
    if (i > 0u) {
      for (var c = k; c < R; c += KS) {     // rows [R, 2R): the folded W_res(i-1) W_cur(i) against g_{i-1}
        let wf = wg4(wb + (R + c) * R2q + o4);
        let ws = wg4(wb + (R + c) * R2q + Rq + o4);
        for (var v = 0u; v < nv; v++) {
          let x = vec4<f32>(a_in[(vg + v) * W + R + S + c]);
          fa[v] = fma(x, wf, fa[v]);
          sa[v] = fma(x, ws, sa[v]);
        }
      }
    }
    for (var v = 0u; v < nv; v++) {
      red[(v * 2u) * WG + lid] = fa[v];
      red[(v * 2u + 1u) * WG + lid] = sa[v];
    }
    workgroupBarrier();
    if (k < nv) {
      let b = vg + k;
      let pb = (i * p.B + b) * R2q + o4;
      let g = sigmoid4(past[pb] + slice_sum(o, k, 0u)) * tanh4(past[pb + Rq] + slice_sum(o, k, 1u));
      store4(b * W + R + S + o4 * 4u, g);
    }
    return;
  }
  // residual / skip tiles: output vec4 q4 of [l | s]
  let q4 = (wg.x - gate_tiles) * C4 + o;
  let d = dilation_of(i, p.lps);
  let row = ring_base(i, p) + (t % (2u * d)) * p.B * R;
  if (i == 0u) {
    if (k == 0u) {
      for (var v = 0u; v < nv; v++) {
        let b = vg + v;
        let x = load4(b * Win + q4 * 4u);
        store4(b * W + q4 * 4u, x);
        if (q4 < Rq) { push_ring(row + b * R + q4 * 4u, x); }
      }
    }
    return;
  }
  var acc: array<vec4<f32>, VT_MAX>;
  for (var v = 0u; v < VT_MAX; v++) { acc[v] = vec4<f32>(0.0); }
  let Q = (R + S) / 4u;
  let wb = (i - 1u) * R * Q;
  for (var c = k; c < R; c += KS) {
    let w = wr4(wb + c * Q + q4);
    for (var v = 0u; v < nv; v++) { acc[v] = fma(vec4<f32>(a_in[(vg + v) * W + R + S + c]), w, acc[v]); }
  }
  let bo = p.at_res_skip_b + (i - 1u) * (R + S) + q4 * 4u;
  let bias = vec4<f32>(small_w[bo], small_w[bo + 1u], small_w[bo + 2u], small_w[bo + 3u]);
  for (var v = 0u; v < nv; v++) { red[(v * 2u) * WG + lid] = acc[v]; }
  workgroupBarrier();
  if (k < nv) {
    let b = vg + k;
    let x = load4(b * W + q4 * 4u) + slice_sum(o, k, 0u) + bias;   // l_{i-1} + res, or s + skip
    store4(b * W + q4 * 4u, x);
    if (q4 < Rq) { push_ring(row + b * R + q4 * 4u, x); }
  }
}
