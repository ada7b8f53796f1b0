// Fast generation, end of a step, one workgroup per voice: the output head
// relu(s) -> out1 + cond_out (frame) -> relu -> logits, then softmax sampling on the GPU with a
// counter-based RNG (seed, voice, step) and a temperature (0 = argmax). The sampled class is
// recorded and its mu-law value (k - 128) / 128 becomes the next step's input, without leaving
// the GPU; with teacher forcing the given class is fed instead. Finally the voice's step counter
// advances.
//! include lib_generation
//! include lib_sample_categorical
//! include lib_finish_step

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@group(0) @binding(2) var<storage, read> l_and_s: array<f32>;
@group(0) @binding(3) var<storage, read> small_w: array<f32>;
@group(0) @binding(4) var<storage, read> cond: array<f32>;
@group(0) @binding(5) var<storage, read_write> classes: array<u32>;    // [B][steps]
@group(0) @binding(6) var<storage, read> teacher: array<u32>;          // [B][steps] (flag 1)
@group(0) @binding(7) var<storage, read_write> step_logits: array<f32>; // [B][steps][256] (flag 2)

var<workgroup> hs: array<f32, 1024>;
var<workgroup> h2: array<f32, 1024>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let b = wg.x;
  let lid = lid3.x;
  let t = state[b];
  let S = p.S;
  let RS = p.R + S;
  for (var c = lid; c < S; c += 256u) { hs[c] = max(l_and_s[b * RS + p.R + c], 0.0); }
  workgroupBarrier();
  let f = t / p.hop;
  let cb = (b * p.frames + f) * p.cond_stride + p.L * 2u * p.R;   // cond_out1 (+ out1 bias)
  for (var o = lid; o < S; o += 256u) {
    var acc = cond[cb + o];
    for (var c = 0u; c < S; c++) { acc = fma(hs[c], small_w[p.at_out1_w + c * S + o], acc); }
    h2[o] = max(acc, 0.0);
  }
  workgroupBarrier();
  var logit = small_w[p.at_logits_b + lid];
  for (var c = 0u; c < S; c++) { logit = fma(h2[c], small_w[p.at_logits_w + c * 256u + lid], logit); }
  finish_step(lid, b, t, logit);
}
