enable subgroups;
// conv1d_backward_weight (see kernels/conv1d_backward_weight.wgsl for the maths) shaped for CPU
// adapters, as conv1d_lanes is: each invocation owns one weight row (k, ci) and the workgroup's
// 32 output channels, and runs serially over its time chunk (a CPU core wants long loops). Per
// time step lane l reads the vec4 dy[n, co0 + 4l ..] and subgroupBroadcast hands each lane all
// eight, so a lane does 32 multiply-adds per x it reads. The workgroups of the first row block also
// sum dy for the bias row. Needs Cout divisible by 4 and subgroups of at least 8 lanes.

//! include lib_conv1d_backward_weight_epilogue

@group(0) @binding(1) var<storage, read> x: array<f32>;         // [B, T, Cin]
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;  // [B, T, Cout / 4]
@group(0) @binding(3) var<storage, read> y: array<vec4<f32>>;   // [B, T, Cout / 4], for the output-ReLU mask

const LANES: u32 = 32u;  // weight rows per workgroup (32: no idle lanes at 32 or 96 rows)
const COLS: u32 = 32u;   // output channels per workgroup (eight vec4)

@compute @workgroup_size(32)
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  chunk_index = wg.z;
  let cin = params.cin;
  let cout4 = params.cout / 4u;
  let kc = params.taps * cin;
  let col4 = wg.x * (COLS / 4u);
  let mask = (params.flags & 2u) != 0u;
  let relu_in = (params.flags & 1u) != 0u;
  let fetch_c = col4 + lane % 8u;
  let fetch_ok = fetch_c < cout4;
  let wrow = wg.y * LANES + lid.x;
  let live = wrow < kc;
  let k = select(0u, wrow / cin, live);
  let ci = wrow % cin;
  let shift = i32(k * params.dilation) + params.offset;
  let with_bias = wg.y == 0u;  // uniform: these workgroups also sum the bias row
  let begin = wg.z * params.chunk;
  let end = min(params.rows, begin + params.chunk);
  var b = begin / params.T;
  var t = begin % params.T;
  var acc0 = vec4<f32>(); var acc1 = vec4<f32>(); var acc2 = vec4<f32>(); var acc3 = vec4<f32>();
  var acc4 = vec4<f32>(); var acc5 = vec4<f32>(); var acc6 = vec4<f32>(); var acc7 = vec4<f32>();
  var gsum = vec4<f32>();  // this lane's own dy columns, summed (the bias row)
  for (var n = begin; n < end; n++) {
    let go = n * cout4 + fetch_c;
    var g = select(vec4<f32>(), dy[go], fetch_ok);
    if (mask) { g = select(g, vec4<f32>(), y[go] <= vec4<f32>()); }
    let ts = i32(t) + shift;
    let ok = live && ts >= 0 && ts < i32(params.T);
    var a = select(0.0, x[select(0u, (b * params.T + u32(ts)) * cin + ci, ok)], ok);
    if (relu_in) { a = max(a, 0.0); }
    acc0 = fma(vec4<f32>(a), subgroupBroadcast(g, 0u), acc0);
    acc1 = fma(vec4<f32>(a), subgroupBroadcast(g, 1u), acc1);
    acc2 = fma(vec4<f32>(a), subgroupBroadcast(g, 2u), acc2);
    acc3 = fma(vec4<f32>(a), subgroupBroadcast(g, 3u), acc3);
    acc4 = fma(vec4<f32>(a), subgroupBroadcast(g, 4u), acc4);
    acc5 = fma(vec4<f32>(a), subgroupBroadcast(g, 5u), acc5);
    acc6 = fma(vec4<f32>(a), subgroupBroadcast(g, 6u), acc6);
    acc7 = fma(vec4<f32>(a), subgroupBroadcast(g, 7u), acc7);
    if (with_bias) { gsum += g; }
    t += 1u;
    if (t == params.T) {
      t = 0u;
      b += 1u;
    }
  }
  let co = col4 * 4u;
  let acc = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
  if (live) {
    for (var j = 0u; j < 8u; j++) {
      for (var q = 0u; q < 4u; q++) { store(wrow, co + 4u * j + q, acc[j][q]); }
    }
  }
  // Every lane holds the bias sums of its own column vec4 (lanes 8 and up, and other subgroups,
  // hold copies: they write the same values).
  if (with_bias && fetch_ok) {
    for (var q = 0u; q < 4u; q++) { store(kc, 4u * fetch_c + q, gsum[q]); }
  }
}
