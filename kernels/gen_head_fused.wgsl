// Fast generation, end of a step on the fused path (gen_layer_fused): the last layer's skip
// projection, which no layer dispatch is left to compute, added to the skip sum, then the output
// head, softmax sampling and feedback as in gen_head_sample. One workgroup per voice.
//! include lib_generation
//! include lib_sample_categorical
//! include lib_finish_step
//! include lib_gen_head

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@group(0) @binding(2) var<storage, read> acts: array<f32>;          // [B][l (R) | s (S) | g (R)]
@group(0) @binding(3) var<storage, read> w_res_skip: array<f32>;    // [L][R in][R+S] (f32)
@group(0) @binding(4) var<storage, read> small_w: array<f32>;
@group(0) @binding(5) var<storage, read> cond: array<f32>;
@group(0) @binding(6) var<storage, read_write> classes: array<u32>;    // [B][steps]
@group(0) @binding(7) var<storage, read> teacher: array<u32>;          // [B][steps] (flag 1)
@group(0) @binding(8) var<storage, read_write> step_logits: array<f32>; // [B][steps][256] (flag 2)

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let b = wg.x;
  let lid = lid3.x;
  let t = state[b];
  let R = p.R;
  let S = p.S;
  let W = 2u * R + S;
  let last = p.L - 1u;
  let wb = last * R * (R + S) + R;
  for (var c = lid; c < S; c += 256u) {
    var acc = acts[b * W + R + c] + small_w[p.at_res_skip_b + last * (R + S) + R + c];
    for (var r = 0u; r < R; r++) { acc = fma(acts[b * W + R + S + r], w_res_skip[wb + r * (R + S) + c], acc); }
    hs[c] = max(acc, 0.0);
  }
  workgroupBarrier();
  head_and_sample(lid, b, t);
}
