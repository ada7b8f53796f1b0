// Batch norm's moving averages after a training step, as TF's assign_moving_average (no zero
// debiasing): moving -= (1 - decay) * (moving - batch). The batch variance is recovered from the
// saved invStd = 1 / sqrt(var + eps) rather than stored twice.

struct Params { channels: u32, decay: f32, eps: f32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> mean: array<f32>;
@group(0) @binding(2) var<storage, read> inv_std: array<f32>;
@group(0) @binding(3) var<storage, read_write> moving_mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> moving_var: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let rate = 1.0 - params.decay;
  for (var c = gid.x; c < params.channels; c += nwg.x * 64u) {
    let s = inv_std[c];
    // Rounding can take a near-zero variance slightly below 0; a variance never is.
    let v = max(1.0 / (s * s) - params.eps, 0.0);
    moving_mean[c] -= rate * (moving_mean[c] - mean[c]);
    moving_var[c] -= rate * (moving_var[c] - v);
  }
}
