// Benchmark probe: streams a buffer once (vec4 loads, grid-stride) to measure read bandwidth.
struct Params { n4: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var acc = vec4<f32>();
  for (var i = gid.x; i < params.n4; i += nwg.x * 256u) { acc += src[i]; }
  sink[gid.x] = acc.x + acc.y + acc.z + acc.w;
}
