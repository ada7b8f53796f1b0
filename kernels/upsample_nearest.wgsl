// Nearest-neighbour upsampling of frames to samples: out[b, t, c] = scale * x[b, t / factor, c].
// scale = 1 is Magenta's _condition; scale = 1/factor is the backward pass of average pooling.
// x is [B, F, C], out is [B, F*factor, C].

struct Params { factor: u32, channels: u32, total: u32, scale: f32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < params.total; i += nwg.x * 256u) {
    let c = i % params.channels;
    let bt = i / params.channels;      // b * T + t, and b * F + t / factor is bt / factor
    out[i] = params.scale * x[(bt / params.factor) * params.channels + c];
  }
}
