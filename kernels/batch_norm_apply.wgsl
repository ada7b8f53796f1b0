// Batch norm without a scale (slim's default center=True, scale=False), x and y [N, C]:
//   y[r, c] = (x[r, c] - mean[c]) * s[c] + beta[c]
// with s = scale (the batch invStd, training) or, when from_variance = 1, s = 1 / sqrt(scale + eps)
// (scale holding the moving variance, inference).

struct Params { n: u32, channels: u32, from_variance: u32, eps: f32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> scale: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < params.n; i += nwg.x * 256u) {
    let c = i % params.channels;
    var s = scale[c];
    if (params.from_variance != 0u) { s = 1.0 / sqrt(s + params.eps); }
    y[i] = (x[i] - mean[c]) * s + beta[c];
  }
}
