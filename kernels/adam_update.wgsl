// One Adam step (TensorFlow's form, epsilon added to sqrt(v) without bias correction) fused with
// the exponential moving average of the weights, over a flat range of parameters:
//   g = clip * grad;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr_t * m / (sqrt(v) + eps),  lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)   (computed on the host)
//   ema -= (1 - decay) * (ema - p)                                            (when decay > 0)
// clip = min(1, max_norm / ||grad||) with the squared norm summed from hyper[8 ..) (when max_norm > 0).
// The per-step numbers live in a storage buffer written before each submit, so the prepared
// dispatch serves every step.

struct Params { n: u32, norm_slots: u32, }

@group(0) @binding(0) var<uniform> params: Params;
// [0] lr_t, [1] beta1, [2] beta2, [3] epsilon, [4] ema decay (0 = none), [5] max grad norm (0 = none),
// [8 ..] partial squared gradient norms
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> p: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;
@group(0) @binding(6) var<storage, read_write> ema: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let lr_t = hyper[0];
  let b1 = hyper[1];
  let b2 = hyper[2];
  let eps = hyper[3];
  let decay = hyper[4];
  let max_norm = hyper[5];
  var clip = 1.0;
  if (max_norm > 0.0) {
    var sq = 0.0;
    for (var s = 0u; s < params.norm_slots; s++) { sq += hyper[8u + s]; }
    let norm = sqrt(sq);
    if (norm > max_norm) { clip = max_norm / norm; }
  }
  for (var i = gid.x; i < params.n; i += nwg.x * 256u) {
    let g = clip * grad[i];
    let mi = b1 * m[i] + (1.0 - b1) * g;
    let vi = b2 * v[i] + (1.0 - b2) * g * g;
    m[i] = mi;
    v[i] = vi;
    let pi = p[i] - lr_t * mi / (sqrt(vi) + eps);
    p[i] = pi;
    if (decay > 0.0) { ema[i] -= (1.0 - decay) * (ema[i] - pi); }
  }
}
