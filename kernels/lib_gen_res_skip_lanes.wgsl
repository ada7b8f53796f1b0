// gen_res_skip (the [res | skip] matvec of the gate output, accumulated into [l | s]; see
// kernels/gen_res_skip.wgsl) shaped for CPU adapters with subgroups of at least 8 lanes, as
// kernels/gen_gate_lanes.wgsl is: lane k of a subgroup reads channel c0 + k of every voice's gate
// output once per block of 8 channels and subgroupShuffle hands it to the other lanes, instead of
// every lane reading every input. Each thread owns two output vec4s, o4 and o4 + Q/2, so that every
// shuffled input feeds 8 outputs (on lavapipe 15-25% faster than one vec4 per thread; the gate,
// with its two halves, already has 8 outputs per thread). Same voice tile, sums and order as
// gen_res_skip. Needs R and S divisible by 8 (Q even); WG (a multiple of 8) is sized by the host.
// The including kernel enables subgroups and declares the weights w_res_skip (binding 1), wrs4
// (four weights at vec4 index i) and wrs8 (eight at index j, in eights):
// f32 in gen_res_skip_lanes, f16 pairs in gen_res_skip_lanes_f16.
//! include lib_generation
//! include lib_eight_weights

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(2) var<storage, read> small_w: array<f32>;
@group(0) @binding(3) var<storage, read> gated: array<f32>;             // [B][R]
@group(0) @binding(4) var<storage, read_write> l_and_s: array<vec4<f32>>; // [B][(R+S)/4]

const VB: u32 = 16u;      // voices per voice group (the host's VOICE_TILE)
override WG: u32 = 64u;   // threads per workgroup

// A voice group of one voice b: gen_res_skip's straight-line code (its sums in its order), thread j
// making outputs 2 j and 2 j + 1, side by side so that one 16-byte read a row brings both (wrs8);
// bo, wb: the layer's offsets of its biases (floats) and weights (vec4s). On lavapipe at batch 1
// (h512_bo16, f16) a layer took 102-110 us against 131 for gen_res_skip.
fn res_skip_one_voice(b: u32, j: u32, bo: u32, wb: u32) {
  let R = p.R;
  let Q = (R + p.S) / 4u;
  var a0 = bias4(bo + 8u * j);
  var a1 = bias4(bo + 8u * j + 4u);
  for (var c = 0u; c < R; c++) {
    let g = vec4<f32>(gated[b * R + c]);
    let w = wrs8((wb + c * Q) / 2u + j);   // in eights of weights (wb and Q are even)
    a0 = fma(g, w.a, a0);
    a1 = fma(g, w.b, a1);
  }
  // on the last layer the residual's outputs (the first R/4) feed nothing
  let last = p.layer == p.L - 1u;
  if (!(last && 2u * j < R / 4u)) { l_and_s[b * Q + 2u * j] += a0; }
  if (!(last && 2u * j + 1u < R / 4u)) { l_and_s[b * Q + 2u * j + 1u] += a1; }
}

fn bias4(at: u32) -> vec4<f32> { return vec4<f32>(small_w[at], small_w[at + 1u], small_w[at + 2u], small_w[at + 3u]); }

@compute @workgroup_size(WG)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(subgroup_invocation_id) sl: u32,
) {
  let R = p.R;
  let Q = (R + p.S) / 4u;
  let H = Q / 2u;
  let i = p.layer;
  // Threads past the last output keep step with their subgroup (the shuffles need every lane) on a
  // copy of the last output and store nothing; on the last layer the residual's outputs (the
  // first R/4) feed nothing and are not stored either.
  let o4 = min(gid.x, H - 1u);
  let o4b = o4 + H;
  let live = gid.x < H;
  let live_a = live && !(i == p.L - 1u && o4 < R / 4u);
  let live_b = live && !(i == p.L - 1u && o4b < R / 4u);
  let lane = sl % 8u;   // in a wider subgroup, lanes 8.. repeat lanes 0-7
  let vg = wid.y * VB;
  let nv = min(VB, p.B - vg);
  let bo = p.at_res_skip_b + i * (R + p.S);
  let bias_a = bias4(bo + o4 * 4u);
  let bias_b = bias4(bo + o4b * 4u);
  let wb = i * R * Q;
  if (nv == 1u) {
    // a single voice: straight-line code (no reuse to gain from the shuffles)
    if (live) { res_skip_one_voice(vg, gid.x, bo, wb); }
    return;
  }
  var acc_a: array<vec4<f32>, VB>;
  var acc_b: array<vec4<f32>, VB>;
  var gv: array<f32, VB>;   // this lane's channel of the block, per voice
  for (var v = 0u; v < VB; v++) {
    acc_a[v] = bias_a;
    acc_b[v] = bias_b;
  }
  for (var c0 = 0u; c0 < R; c0 += 8u) {
    for (var v = 0u; v < VB; v++) {
      if (v < nv) { gv[v] = gated[(vg + v) * R + c0 + lane]; }
    }
    for (var k = 0u; k < 8u; k++) {
      let w_a = wrs4(wb + (c0 + k) * Q + o4);
      let w_b = wrs4(wb + (c0 + k) * Q + o4b);
      for (var v = 0u; v < VB; v++) {
        if (v < nv) {
          let g = vec4<f32>(subgroupShuffle(gv[v], k));
          acc_a[v] = fma(g, w_a, acc_a[v]);
          acc_b[v] = fma(g, w_b, acc_b[v]);
        }
      }
    }
  }
  for (var v = 0u; v < nv; v++) {
    if (live_a) { l_and_s[(vg + v) * Q + o4] += acc_a[v]; }
    if (live_b) { l_and_s[(vg + v) * Q + o4b] += acc_b[v]; }
  }
}
