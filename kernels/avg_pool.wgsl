// Pooling over time with window = stride = `window`: out[b, f, c] = scale * sum_{j < window} x[b, f*window + j, c].
// scale = 1/window is Magenta's ae_pool (SAME padding on a length that is a multiple of the window);
// scale = 1 sums a frame, the backward pass of upsampling (and of a per-frame bias).
// x is [B, F*window, C], out is [B, F, C].

struct Params { frames: u32, window: u32, channels: u32, total: u32, scale: f32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < params.total; i += nwg.x * 64u) {
    let c = i % params.channels;
    let bf = i / params.channels;      // b * frames + f
    let start = bf * params.window;    // first sample of the window, counting across the batch
    var s = 0.0;
    for (var j = 0u; j < params.window; j++) { s += x[(start + j) * params.channels + c]; }
    out[i] = s * params.scale;
  }
}
