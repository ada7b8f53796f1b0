// Gradient of leaky ReLU: dx[i] (+)= dy[i] where x[i] > 0, alpha * dy[i] otherwise (at 0 the slope
// is alpha, as TF's LeakyReluGrad).

struct Params { n: u32, alpha: f32, accumulate: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < params.n; i += nwg.x * 256u) {
    let g = dy[i];
    var v = select(params.alpha * g, g, x[i] > 0.0);
    if (params.accumulate != 0u) { v += dx[i]; }
    dx[i] = v;
  }
}
