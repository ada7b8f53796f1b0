// Categorical sampling of rows of 256 logits on the GPU (one workgroup per row), with the same
// RNG and rule as the fast generator's head: row r draws uniform01(seed, voice0 + r*voice_step,
// step0 + r*step_step). With `broadcast` every row samples logits row 0 (for distribution tests).
//! include lib_sample_categorical

struct Params {
  rows: u32, seed: u32, temperature: f32, voice0: u32, voice_step: u32, step0: u32, step_step: u32, broadcast: u32,
  rows_per_y: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> classes: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = wg.y * params.rows_per_y + wg.x;
  if (r >= params.rows) { return; }
  let src = select(r, 0u, params.broadcast != 0u);
  let u = uniform01(params.seed, params.voice0 + r * params.voice_step, params.step0 + r * params.step_step);
  let k = sample_categorical(lid.x, logits[src * 256u + lid.x], params.temperature, u);
  if (lid.x == 0u) { classes[r] = k; }
}
