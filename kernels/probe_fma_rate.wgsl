// Benchmark probe: independent chains of vec4 FMAs in registers, to measure arithmetic throughput.
struct Params { iterations: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let s = f32(gid.x) * 1e-7;
  var a = vec4<f32>(s, s + 1e-3, s + 2e-3, s + 3e-3);
  var b = a + 0.1; var c = a + 0.2; var d = a + 0.3;
  let m = vec4<f32>(0.9999);
  let k = vec4<f32>(1e-4);
  for (var i = 0u; i < params.iterations; i++) {
    a = fma(a, m, k); b = fma(b, m, k); c = fma(c, m, k); d = fma(d, m, k);
  }
  sink[gid.x] = dot(a + b + c + d, vec4<f32>(1.0));
}
