// Shared by the kernels that sample (included with `//! include lib_sample_categorical`):
// a counter-based RNG and categorical sampling of 256 classes by one workgroup of 256 threads.

// PCG hash (Jarzynski & Olano 2020): a good 32-bit mix of one word.
fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Uniform in [0, 1) from a voice's key and the step: reproducible, independent per voice and step.
// The key is pcg_hash(voice + pcg_hash(seed)), made on the host (src/ops/sample-categorical.ts
// voiceKey) so that every voice of a batch may have its own seed.
fn uniform01_keyed(key: u32, step: u32) -> f32 {
  let h = pcg_hash(step + key);
  return f32(h >> 8u) * (1.0 / 16777216.0);
}

// A voice's key from (seed, voice), as the host makes it.
fn voice_key(seed: u32, voice: u32) -> u32 { return pcg_hash(voice + pcg_hash(seed)); }

// Uniform in [0, 1) from (seed, voice, step): uniform01_keyed(voice_key(seed, voice), step).
fn uniform01(seed: u32, voice: u32, step: u32) -> f32 { return uniform01_keyed(voice_key(seed, voice), step); }

var<workgroup> sc_cdf: array<f32, 256>;
var<workgroup> sc_count: atomic<u32>;

// Every thread passes its class's logit; all threads get the sampled class. temperature 0 = argmax
// (lowest index on ties); otherwise softmax(logit / temperature) sampled by inverse CDF, as
// Magenta's sample_categorical (cumsum + searchsorted, clamped to the last class).
fn sample_categorical(lid: u32, logit: f32, temperature: f32, u: f32) -> u32 {
  // max by tree reduction
  sc_cdf[lid] = logit;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) { sc_cdf[lid] = max(sc_cdf[lid], sc_cdf[lid + s]); }
    workgroupBarrier();
  }
  let mx = sc_cdf[0];
  workgroupBarrier();
  if (temperature <= 0.0) {
    if (lid == 0u) { atomicStore(&sc_count, 256u); }
    workgroupBarrier();
    if (logit == mx) { atomicMin(&sc_count, lid); }
    workgroupBarrier();
    return atomicLoad(&sc_count);
  }
  // inclusive prefix sum of exp((logit - max) / T) (Hillis-Steele)
  sc_cdf[lid] = exp((logit - mx) / temperature);
  workgroupBarrier();
  for (var off = 1u; off < 256u; off <<= 1u) {
    var v = sc_cdf[lid];
    if (lid >= off) { v += sc_cdf[lid - off]; }
    workgroupBarrier();
    sc_cdf[lid] = v;
    workgroupBarrier();
  }
  let target_mass = u * sc_cdf[255];
  if (lid == 0u) { atomicStore(&sc_count, 0u); }
  workgroupBarrier();
  if (sc_cdf[lid] <= target_mass) { atomicAdd(&sc_count, 1u); }
  workgroupBarrier();
  return min(atomicLoad(&sc_count), 255u);
}
