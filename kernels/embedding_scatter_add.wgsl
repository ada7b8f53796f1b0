// Backward of embedding_gather: dtable[p, d] (+)= sum over b with ids[b] == p of dout[b, d].
// One thread per table element walks the batch (a handful of items), so repeated ids add without
// atomics and in a fixed order; ids >= classes touch nothing.

struct Params { batch: u32, classes: u32, dims: u32, accumulate: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dtable: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = params.classes * params.dims;
  for (var i = gid.x; i < total; i += nwg.x * 64u) {
    let p = i / params.dims;
    let d = i % params.dims;
    var s = 0.0;
    for (var b = 0u; b < params.batch; b++) {
      if (ids[b] == p) { s += dout[b * params.dims + d]; }
    }
    if (params.accumulate != 0u) { s += dtable[i]; }
    dtable[i] = s;
  }
}
