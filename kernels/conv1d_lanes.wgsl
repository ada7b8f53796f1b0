enable subgroups;
// conv1d (see kernels/conv1d.wgsl for the maths) shaped for CPU adapters, where a subgroup is one
// SIMD register (lavapipe: 8 lanes) and every per-lane memory read is a scalar load per lane. Each
// invocation owns two time rows and the same 8 output columns as its subgroup; the weights, which
// all lanes need, are read once per subgroup (lane l reads one vec4 of them) and handed round by
// subgroupBroadcast, a register shuffle. No workgroup memory, no barriers. Needs Cin and Cout
// divisible by 4 and a subgroup of at least 8 lanes; the host falls back to the tiled kernels
// otherwise (and on GPUs, where they are faster).

//! include lib_conv1d_epilogue

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;   // [B, T, Cin / 4]
@group(0) @binding(2) var<storage, read> W: array<vec4<f32>>;   // [K, Cin, Cout / 4]

const LANES: u32 = 64u;  // invocations per workgroup; each owns rows lid and lid + LANES of the tile
const COLS: u32 = 8u;    // output columns per workgroup (two vec4)

// Two rows per invocation, written out: the loops over rows as arrays cost lavapipe a third of its speed.
@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let cin4 = params.cin / 4u;
  let cout4 = params.cout / 4u;
  let col4 = wg.x * (COLS / 4u);
  let relu_in = (params.flags & 1u) != 0u;
  // Lane l fetches weight row q = l / 2 of the four a vec4 of x spans, and column vec4 l % 2.
  let fetch_q = (lane % 8u) / 2u;
  let fetch_c = col4 + lane % 2u;
  let fetch_ok = fetch_c < cout4;
  let row0 = wg.y * LANES * 2u + lid.x;
  let row1 = row0 + LANES;
  let t0 = i32(row0 % params.T);
  let t1 = i32(row1 % params.T);
  let item0 = (row0 / params.T) * params.T;
  let item1 = (row1 / params.T) * params.T;
  var acc00 = vec4<f32>(); var acc01 = vec4<f32>();
  var acc10 = vec4<f32>(); var acc11 = vec4<f32>();
  for (var k = 0u; k < params.taps; k++) {
    let shift = i32(k * params.dilation) + params.offset;
    let ts0 = t0 + shift;
    let ts1 = t1 + shift;
    let ok0 = row0 < params.rows && ts0 >= 0 && ts0 < i32(params.T);
    let ok1 = row1 < params.rows && ts1 >= 0 && ts1 < i32(params.T);
    let base0 = select(0u, (item0 + u32(ts0)) * cin4, ok0);
    let base1 = select(0u, (item1 + u32(ts1)) * cin4, ok1);
    let wbase = (k * params.cin + fetch_q) * cout4 + fetch_c;
    for (var c4 = 0u; c4 < cin4; c4++) {
      let mine = select(vec4<f32>(), W[wbase + c4 * 4u * cout4], fetch_ok);
      let w00 = subgroupBroadcast(mine, 0u);
      let w01 = subgroupBroadcast(mine, 1u);
      let w10 = subgroupBroadcast(mine, 2u);
      let w11 = subgroupBroadcast(mine, 3u);
      let w20 = subgroupBroadcast(mine, 4u);
      let w21 = subgroupBroadcast(mine, 5u);
      let w30 = subgroupBroadcast(mine, 6u);
      let w31 = subgroupBroadcast(mine, 7u);
      // Taps outside the sequence read as zero (selected, not multiplied: 0 x Inf is NaN).
      let a0 = select(vec4<f32>(), x[base0 + c4], ok0);
      let e0 = select(vec4<f32>(), x[base1 + c4], ok1);
      let a = select(a0, max(a0, vec4<f32>()), relu_in);
      let e = select(e0, max(e0, vec4<f32>()), relu_in);
      acc00 = fma(vec4<f32>(a.x), w00, acc00); acc01 = fma(vec4<f32>(a.x), w01, acc01);
      acc00 = fma(vec4<f32>(a.y), w10, acc00); acc01 = fma(vec4<f32>(a.y), w11, acc01);
      acc00 = fma(vec4<f32>(a.z), w20, acc00); acc01 = fma(vec4<f32>(a.z), w21, acc01);
      acc00 = fma(vec4<f32>(a.w), w30, acc00); acc01 = fma(vec4<f32>(a.w), w31, acc01);
      acc10 = fma(vec4<f32>(e.x), w00, acc10); acc11 = fma(vec4<f32>(e.x), w01, acc11);
      acc10 = fma(vec4<f32>(e.y), w10, acc10); acc11 = fma(vec4<f32>(e.y), w11, acc11);
      acc10 = fma(vec4<f32>(e.z), w20, acc10); acc11 = fma(vec4<f32>(e.z), w21, acc11);
      acc10 = fma(vec4<f32>(e.w), w30, acc10); acc11 = fma(vec4<f32>(e.w), w31, acc11);
    }
  }
  let co = col4 * 4u;
  store4(row0, co, acc00);
  store4(row0, co + 4u, acc01);
  store4(row1, co, acc10);
  store4(row1, co + 4u, acc11);
}
