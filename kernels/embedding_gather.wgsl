// Embedding lookup, the product of a one-hot with a table: out[b, d] = table[ids[b], d], a zero row
// for an id >= classes (as tf.one_hot gives an all-zero row). table is [classes, dims], ids [B].

struct Params { batch: u32, classes: u32, dims: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = params.batch * params.dims;
  for (var i = gid.x; i < total; i += nwg.x * 64u) {
    let id = ids[i / params.dims];
    let d = i % params.dims;
    out[i] = select(0.0, table[min(id, params.classes - 1u) * params.dims + d], id < params.classes);
  }
}
