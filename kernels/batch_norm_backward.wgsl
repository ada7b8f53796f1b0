// Gradient of training-mode batch norm without a scale with respect to its input, the batch
// statistics included (they depend on x):
//   dx[r, c] (+)= inv_std[c] * (dy[r, c] - mean(dy)[c] - xhat[r, c] * mean(dy * xhat)[c])
// with xhat = (x - mean) * inv_std and the two means left by batch_norm_backward_stats_sum in
// part[base + c] and part[base + C + c].

struct Params { n: u32, channels: u32, base: u32, accumulate: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> inv_std: array<f32>;
@group(0) @binding(5) var<storage, read> part: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < params.n; i += nwg.x * 256u) {
    let c = i % params.channels;
    let inv = inv_std[c];
    let xhat = (x[i] - mean[c]) * inv;
    var v = inv * (dy[i] - part[params.base + c] - xhat * part[params.base + params.channels + c]);
    if (params.accumulate != 0u) { v += dx[i]; }
    dx[i] = v;
  }
}
