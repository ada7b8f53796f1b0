// Gradient of the WaveNet gate out[n, c] = sigmoid(x[n, c]) * tanh(x[n, C + c]):
//   dx[n, c]     (+)= dout[n, c] * tanh(x[n, C + c]) * s * (1 - s),   s = sigmoid(x[n, c])
//   dx[n, C + c] (+)= dout[n, c] * s * (1 - tanh(x[n, C + c])^2)
// x and dx are [N, 2C], dout is [N, C].

struct Params { n: u32, channels: u32, accumulate: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

//! include lib_activations

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = params.n * params.channels;
  for (var i = gid.x; i < total; i += nwg.x * 256u) {
    let row = i / params.channels;
    let c = i % params.channels;
    let ia = row * 2u * params.channels + c;
    let ib = ia + params.channels;
    let s = sigmoid(x[ia]);
    let th = tanh_safe(x[ib]);
    let g = dout[i];
    var da = g * th * s * (1.0 - s);
    var db = g * s * (1.0 - th * th);
    if (params.accumulate != 0u) { da += dx[ia]; db += dx[ib]; }
    dx[ia] = da;
    dx[ib] = db;
  }
}
