// Gradient of loss = mean_i w[f(i)] * (targets[i] - sigmoid(z[i]))^2 with respect to z, times a scale:
//   dz[i] (+)= coef * w[f(i)] * (sigmoid(z[i]) - targets[i]) * sigmoid'(z[i]),   coef = 2 * scale / n
// with sigmoid'(z) = e / (1 + e)^2, e = exp(-|z|): exact in the tails, where s * (1 - s) would
// round to 0 long before the true slope underflows.

struct Params { n: u32, F: u32, T: u32, coef: f32, accumulate: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < params.n; i += nwg.x * 256u) {
    let v = z[i];
    let e = exp(-abs(v));
    let q = 1.0 / (1.0 + e);
    let p = select(e * q, q, v >= 0.0);
    var g = params.coef * weights[(i / params.T) % params.F] * (p - targets[i]) * (e * q * q);
    if (params.accumulate != 0u) { g += dz[i]; }
    dz[i] = g;
  }
}
