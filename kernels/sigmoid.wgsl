// y = 1 / (1 + exp(-x)), written so that neither branch overflows: exp of a non-positive number only.
// The baseline's output layer at inference (training fuses it into sigmoid_weighted_mse).

struct Params { n: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < params.n; i += nwg.x * 256u) {
    let v = x[i];
    let e = exp(-abs(v));
    y[i] = select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
  }
}
