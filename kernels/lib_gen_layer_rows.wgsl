// Fast generation on the fused path's math (lib_gen_layer_fused.wgsl: one dispatch per layer, each
// layer's residual folded into the next layer's current tap, a step of L + 2 dispatches), with the
// big matrices stored transposed, one row per output ([out][in]), for wide GPUs at small batches.
// gen_layer_rows*.wgsl include this and declare w_gate and w_res_skip with their readers wg4 / wr4
// (f32, or f16 pairs).
//
// Why a second layout: in lib_gen_layer_fused a matrix is [in][out] and the threads of a warp that
// split one output's reduction read one vec4 each from rows 3-4 KB apart (h512_bo16, f32), in a
// loop whose bound is a uniform; an H200 read h512_bo16's weights at 9% of its bandwidth that way
// (bench/RESULTS.md). Here the KS threads of an output row are consecutive, so a warp reads one
// contiguous run of a row (the textbook batch-1 matrix-vector shape), and the trip counts are
// override constants (RQ), so the compiler can issue a thread's loads before the first sum needs
// them (expected, to be timed by the tuner on a GPU).
//
// A workgroup owns 4 * C4 rows: gate units u (rows u and R + u of the gate matrix: f and s), or
// outputs q of [l | s]; each row's KS = WG / (4 * C4) threads take every KS-th vec4 of it, and after
// one barrier thread k < nv of the row sums voice k's KS partials. Activations as in
// lib_gen_layer_fused: a_in / a_out hold per voice [l (R) | s (S) | g (R)] (stride 2R + S), layer 0
// reads the start kernel's [l | s] (stride R + S). C4, KS (through WG), VT and RQ are override
// constants; the tuner (src/generate/tuning.ts) times the shapes against lib_gen_layer_fused's.
// Every loop over voices runs over all VT (a constant), a voice past the batch's last reading the
// last one's inputs and storing nothing, so that the loops unroll and the accumulators stay in
// registers rather than in memory indexed at run time.
//! include lib_generation

override C4: u32 = 2u;    // output vec4s per workgroup: 4 * C4 rows (a power of two)
override WG: u32 = 256u;  // threads per workgroup: KS = WG / (4 * C4) per row (KS >= VT)
override VT: u32 = 1u;    // voices per workgroup: one weight read serves them all (at most VT_MAX)
override RQ: u32 = 8u;    // R / 4, the vec4s in each half of a gate row and in a [res | skip] row
const VT_MAX: u32 = 8u;

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read> past: array<f32>;           // [L][B][2R]: f then s
@group(0) @binding(5) var<storage, read> small_w: array<f32>;
@group(0) @binding(6) var<storage, read> a_in: array<vec4<f32>>;     // [B][2R+S] ([B][R+S] at layer 0)
@group(0) @binding(7) var<storage, read_write> a_out: array<f32>;    // [B][2R+S]
@group(0) @binding(8) var<storage, read_write> hist: array<f32>;

// Every thread's partial sums, all voices, both parts: [voice][part][row][KS] (at most 16 KB).
var<workgroup> red: array<f32, WG * VT * 2u>;

fn row_sum(r: u32, v: u32, part: u32) -> f32 {
  let NR = 4u * C4;
  let KS = WG / NR;
  let base = ((v * 2u + part) * NR + r) * KS;
  var acc = 0.0;
  for (var j = 0u; j < KS; j++) { acc += red[base + j]; }
  return acc;
}

fn put(r: u32, k: u32, v: u32, part: u32, x: vec4<f32>) {
  let NR = 4u * C4;
  let KS = WG / NR;
  red[((v * 2u + part) * NR + r) * KS + k] = x.x + x.y + x.z + x.w;
}

fn in_at(i: u32) -> f32 { return a_in[i / 4u][i % 4u]; }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let NR = 4u * C4;
  let KS = WG / NR;
  let NI = (RQ + KS - 1u) / KS;  // vec4s of a half row a thread reads (the last ones may fall past it)
  let k = lid % KS;
  let r = lid / KS;
  let R = p.R;
  let S = p.S;
  let i = p.layer;
  let t = state[0];
  let W = 2u * R + S;                       // a_out stride
  let Win = select(W, R + S, i == 0u);      // a_in stride
  let Wq = W / 4u;
  let Winq = Win / 4u;
  let gq = (R + S) / 4u;                    // g's first vec4 in a voice's activations
  let vg = wg.y * VT;
  let nv = min(VT, p.B - vg);
  let gate_tiles = R / NR;
  if (wg.x < gate_tiles) {
    let u = wg.x * NR + r;
    var fa: array<vec4<f32>, VT_MAX>;
    var sa: array<vec4<f32>, VT_MAX>;
    for (var v = 0u; v < VT; v++) { fa[v] = vec4<f32>(0.0); sa[v] = vec4<f32>(0.0); }
    let fb = (i * 2u * R + u) * 2u * RQ;    // row u (f) of layer i's [2R out][2R in], in vec4s
    let sb = fb + R * 2u * RQ;              // row R + u (s)
    for (var n = 0u; n < NI; n++) {         // columns [0, R): W_cur(i) against l_{i-1}
      let j = n * KS + k;
      if (j < RQ) {
        let wf = wg4(fb + j);
        let ws = wg4(sb + j);
        for (var v = 0u; v < VT; v++) {
          let x = a_in[(vg + min(v, nv - 1u)) * Winq + j];
          fa[v] = fma(x, wf, fa[v]);
          sa[v] = fma(x, ws, sa[v]);
        }
      }
    }
    if (i > 0u) {
      for (var n = 0u; n < NI; n++) {       // columns [R, 2R): the folded W_res(i-1) W_cur(i) against g_{i-1}
        let j = n * KS + k;
        if (j < RQ) {
          let wf = wg4(fb + RQ + j);
          let ws = wg4(sb + RQ + j);
          for (var v = 0u; v < VT; v++) {
            let x = a_in[(vg + min(v, nv - 1u)) * Wq + gq + j];
            fa[v] = fma(x, wf, fa[v]);
            sa[v] = fma(x, ws, sa[v]);
          }
        }
      }
    }
    for (var v = 0u; v < VT; v++) {
      put(r, k, v, 0u, fa[v]);
      put(r, k, v, 1u, sa[v]);
    }
    workgroupBarrier();
    if (k < nv) {
      let b = vg + k;
      let pb = (i * p.B + b) * 2u * R + u;
      let f = vec4<f32>(past[pb] + row_sum(r, k, 0u));
      let s = vec4<f32>(past[pb + R] + row_sum(r, k, 1u));
      a_out[b * W + R + S + u] = (sigmoid4(f) * tanh4(s)).x;
    }
    return;
  }
  // [res | skip] tiles: output q of [l | s]
  let q = (wg.x - gate_tiles) * NR + r;
  let d = dilation_of(i, p.lps);
  let row = ring_base(i, p) + (t % (2u * d)) * p.B * R;
  if (i == 0u) {
    if (k == 0u) {
      for (var v = 0u; v < nv; v++) {
        let b = vg + v;
        let x = in_at(b * Win + q);
        a_out[b * W + q] = x;
        if (q < R) { hist[row + b * R + q] = x; }
      }
    }
    return;
  }
  var acc: array<vec4<f32>, VT_MAX>;
  for (var v = 0u; v < VT; v++) { acc[v] = vec4<f32>(0.0); }
  let wb = ((i - 1u) * (R + S) + q) * RQ;  // row q of layer i-1's [R+S out][R in], in vec4s
  for (var n = 0u; n < NI; n++) {
    let j = n * KS + k;
    if (j < RQ) {
      let w = wr4(wb + j);
      for (var v = 0u; v < VT; v++) { acc[v] = fma(a_in[(vg + min(v, nv - 1u)) * Wq + gq + j], w, acc[v]); }
    }
  }
  for (var v = 0u; v < VT; v++) { put(r, k, v, 0u, acc[v]); }
  workgroupBarrier();
  if (k < nv) {
    let b = vg + k;
    let x = in_at(b * W + q) + row_sum(r, k, 0u) + small_w[p.at_res_skip_b + (i - 1u) * (R + S) + q];
    a_out[b * W + q] = x;                   // l_{i-1} + res, or s + skip
    if (q < R) { hist[row + b * R + q] = x; }
  }
}
