// Leaky ReLU as tf.nn.leaky_relu: y = x for x > 0, alpha * x otherwise (Magenta's baseline: alpha 0.1).

struct Params { n: u32, alpha: f32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < params.n; i += nwg.x * 256u) {
    let v = x[i];
    y[i] = select(params.alpha * v, v, v > 0.0);
  }
}
