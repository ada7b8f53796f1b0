// Nearest-neighbour upsampling of frames to samples: out[b, t, c] = x[b, t / factor, c].
// x is [B, F, C], out is [B, F*factor, C].

struct Params { factor: u32, channels: u32, total: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < params.total; i += nwg.x * 256u) {
    let c = i % params.channels;
    let bt = i / params.channels;      // b * T + t, and b * F + t / factor is bt / factor
    out[i] = x[(bt / params.factor) * params.channels + c];
  }
}
