// The spectrogram baseline's output and loss, first pass: prediction = sigmoid(z) and partial sums
// of the frequency-weighted squared error
//   part[g] = sum_{i in chunk g} w[f(i)] * (targets[i] - sigmoid(z[i]))^2
// over z, target [B, F, T, 1] (element i is at frequency f(i) = (i / T) % F). reduce_sum adds the
// chunks and divides by the element count. Workgroup g takes elements [g * chunk, (g + 1) * chunk).

struct Params { n: u32, F: u32, T: u32, chunk: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> prediction: array<f32>;
@group(0) @binding(5) var<storage, read_write> part: array<f32>;

var<workgroup> red: array<f32, 256>;

// sigmoid through exp(-|v|) <= 1, which never overflows: e / (1 + e) on the negative side.
fn sigmoid_stable(v: f32) -> f32 {
  let e = exp(-abs(v));
  let q = 1.0 / (1.0 + e);
  return select(e * q, q, v >= 0.0);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let start = wg.x * params.chunk;
  let end = min(start + params.chunk, params.n);
  var s = 0.0;
  for (var i = start + lid.x; i < end; i += 256u) {
    let p = sigmoid_stable(z[i]);
    prediction[i] = p;
    let d = targets[i] - p;
    s += weights[(i / params.T) % params.F] * d * d;
  }
  red[lid.x] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid.x < k) { red[lid.x] += red[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { part[wg.x] = red[0]; }
}
