// Writes a run of channels: out[r, offset + c] = x[r, c] for c < C_in, out rows of C_out channels;
// the other channels of out are left as they are. The forward of channel concatenation (one call
// per part); channel_slice is its backward.

struct Params { rows: u32, in_channels: u32, out_channels: u32, offset: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = params.rows * params.in_channels;
  for (var i = gid.x; i < total; i += nwg.x * 256u) {
    let r = i / params.in_channels;
    let c = i % params.in_channels;
    out[r * params.out_channels + params.offset + c] = x[i];
  }
}
