// Gradient of scale * sum_n nll[n] (the mean cross-entropy has scale = 1 / rows) with respect to
// the logits: dx[n, c] = scale * (exp(logp[n, c]) - [c == target[n]]), from the saved log-softmax.

struct Params { rows: u32, classes: u32, scale: f32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logp: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = params.rows * params.classes;
  for (var i = gid.x; i < total; i += nwg.x * 256u) {
    let row = i / params.classes;
    let c = i % params.classes;
    let label = min(labels[row], params.classes - 1u);
    dx[i] = params.scale * (exp(logp[i]) - select(0.0, 1.0, c == label));
  }
}
