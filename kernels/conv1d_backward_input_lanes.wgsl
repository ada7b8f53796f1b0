enable subgroups;
// conv1d_backward_input (see kernels/conv1d_backward_input.wgsl for the maths) shaped for CPU
// adapters, as conv1d_lanes is: each invocation owns two time rows s and the workgroup's 8 input
// channels ci; per step of four output channels co, lane l reads the vec4 W[k, ci0 + l, co..co+3]
// and subgroupBroadcast hands each lane all eight, so every lane does 64 multiply-adds per
// vec4 of dy it reads. Needs Cin and Cout divisible by 4 and subgroups of at least 8 lanes.

//! include lib_conv1d_backward_input_epilogue

@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;  // [B, T, Cout / 4]
@group(0) @binding(2) var<storage, read> W: array<vec4<f32>>;   // [K, Cin, Cout / 4]
@group(0) @binding(4) var<storage, read> y: array<vec4<f32>>;   // [B, T, Cout / 4], for the output-ReLU mask

const LANES: u32 = 64u;  // invocations per workgroup; each owns rows lid and lid + LANES of the tile
const COLS: u32 = 8u;    // input channels per workgroup

// The output gradient at row `item + t`, zero outside the sequence and where the forward output was clipped.
fn grad(item: u32, t: i32, ok: bool, c4: u32, cout4: u32, mask: bool) -> vec4<f32> {
  let o = select(0u, (item + u32(t)) * cout4 + c4, ok);
  var g = select(vec4<f32>(), dy[o], ok);
  if (mask) { g = select(g, vec4<f32>(), y[o] <= vec4<f32>()); }
  return g;
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let cout4 = params.cout / 4u;
  let ci0 = wg.x * COLS;
  let mask = (params.flags & 2u) != 0u;
  let fetch_ci = ci0 + lane % 8u;
  let fetch_ok = fetch_ci < params.cin;
  let row0 = wg.y * LANES * 2u + lid.x;
  let row1 = row0 + LANES;
  let s0 = i32(row0 % params.T);
  let s1 = i32(row1 % params.T);
  let item0 = (row0 / params.T) * params.T;
  let item1 = (row1 / params.T) * params.T;
  var a0 = vec4<f32>(); var a1 = vec4<f32>();  // row 0, channels ci0 + 0..3 and 4..7
  var b0 = vec4<f32>(); var b1 = vec4<f32>();  // row 1
  for (var k = 0u; k < params.taps; k++) {
    let shift = i32(k * params.dilation) + params.offset;
    let t0 = s0 - shift;
    let t1 = s1 - shift;
    let ok0 = row0 < params.rows && t0 >= 0 && t0 < i32(params.T);
    let ok1 = row1 < params.rows && t1 >= 0 && t1 < i32(params.T);
    let wbase = (k * params.cin + fetch_ci) * cout4;
    for (var c4 = 0u; c4 < cout4; c4++) {
      let mine = select(vec4<f32>(), W[wbase + c4], fetch_ok);
      let w0 = subgroupBroadcast(mine, 0u);
      let w1 = subgroupBroadcast(mine, 1u);
      let w2 = subgroupBroadcast(mine, 2u);
      let w3 = subgroupBroadcast(mine, 3u);
      let w4 = subgroupBroadcast(mine, 4u);
      let w5 = subgroupBroadcast(mine, 5u);
      let w6 = subgroupBroadcast(mine, 6u);
      let w7 = subgroupBroadcast(mine, 7u);
      let g = grad(item0, t0, ok0, c4, cout4, mask);
      let h = grad(item1, t1, ok1, c4, cout4, mask);
      // Transposed so that each update is a vec4 fma over four channels.
      a0 = fma(vec4<f32>(g.x), vec4<f32>(w0.x, w1.x, w2.x, w3.x), a0);
      a0 = fma(vec4<f32>(g.y), vec4<f32>(w0.y, w1.y, w2.y, w3.y), a0);
      a0 = fma(vec4<f32>(g.z), vec4<f32>(w0.z, w1.z, w2.z, w3.z), a0);
      a0 = fma(vec4<f32>(g.w), vec4<f32>(w0.w, w1.w, w2.w, w3.w), a0);
      a1 = fma(vec4<f32>(g.x), vec4<f32>(w4.x, w5.x, w6.x, w7.x), a1);
      a1 = fma(vec4<f32>(g.y), vec4<f32>(w4.y, w5.y, w6.y, w7.y), a1);
      a1 = fma(vec4<f32>(g.z), vec4<f32>(w4.z, w5.z, w6.z, w7.z), a1);
      a1 = fma(vec4<f32>(g.w), vec4<f32>(w4.w, w5.w, w6.w, w7.w), a1);
      b0 = fma(vec4<f32>(h.x), vec4<f32>(w0.x, w1.x, w2.x, w3.x), b0);
      b0 = fma(vec4<f32>(h.y), vec4<f32>(w0.y, w1.y, w2.y, w3.y), b0);
      b0 = fma(vec4<f32>(h.z), vec4<f32>(w0.z, w1.z, w2.z, w3.z), b0);
      b0 = fma(vec4<f32>(h.w), vec4<f32>(w0.w, w1.w, w2.w, w3.w), b0);
      b1 = fma(vec4<f32>(h.x), vec4<f32>(w4.x, w5.x, w6.x, w7.x), b1);
      b1 = fma(vec4<f32>(h.y), vec4<f32>(w4.y, w5.y, w6.y, w7.y), b1);
      b1 = fma(vec4<f32>(h.z), vec4<f32>(w4.z, w5.z, w6.z, w7.z), b1);
      b1 = fma(vec4<f32>(h.w), vec4<f32>(w4.w, w5.w, w6.w, w7.w), b1);
    }
  }
  for (var j = 0u; j < 4u; j++) {
    store(row0, ci0 + j, a0[j]);
    store(row0, ci0 + 4u + j, a1[j]);
    store(row1, ci0 + j, b0[j]);
    store(row1, ci0 + 4u + j, b1[j]);
  }
}
