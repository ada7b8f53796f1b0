// out[slot] = scale * sum_i x[i] in one workgroup (losses and norms: the host reads 4 bytes).
// With squares = 1 it sums x[i]^2 (a gradient's squared norm).

struct Params { n: u32, scale: f32, slot: u32, squares: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3u) {
  var s = 0.0;
  for (var i = lid.x; i < params.n; i += 256u) {
    let v = x[i];
    s += select(v, v * v, params.squares != 0u);
  }
  red[lid.x] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid.x < k) { red[lid.x] += red[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[params.slot] = params.scale * red[0]; }
}
