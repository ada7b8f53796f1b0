// Fast generation, end of a step, one workgroup per voice: the output head
// relu(s) -> out1 + cond_out (frame) -> relu -> logits, then softmax sampling on the GPU with a
// counter-based RNG (seed, voice, step) and a temperature (0 = argmax). The sampled class is
// recorded and its mu-law value (k - 128) / 128 becomes the next step's input, without leaving
// the GPU; with teacher forcing the given class is fed instead. Finally the voice's step counter
// advances.
//! include lib_generation
//! include lib_sample_categorical
//! include lib_finish_step
//! include lib_gen_head

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@group(0) @binding(2) var<storage, read> l_and_s: array<f32>;
@group(0) @binding(3) var<storage, read> small_w: array<f32>;
@group(0) @binding(4) var<storage, read> cond: array<f32>;
@group(0) @binding(5) var<storage, read_write> classes: array<u32>;    // [B][steps]
@group(0) @binding(6) var<storage, read> teacher: array<u32>;          // [B][steps] (flag 1)
@group(0) @binding(7) var<storage, read_write> step_logits: array<f32>; // [B][steps][256] (flag 2)

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let b = wg.x;
  let lid = lid3.x;
  let t = state[b];
  let RS = p.R + p.S;
  for (var c = lid; c < p.S; c += 256u) { hs[c] = max(l_and_s[b * RS + p.R + c], 0.0); }
  workgroupBarrier();
  head_and_sample(lid, b, t);
}
