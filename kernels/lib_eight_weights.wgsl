// Eight consecutive weights of a matrix row, as the lanes kernels read them (a 16-byte read per
// lane where their weights are f16 pairs, two vec4s where f32), and the f16-pair unpacking they
// share. Included by lib_gen_step_start_lanes, lib_gen_gate_lanes and lib_gen_res_skip_lanes.

// Outputs 8 j .. 8 j + 3 of a row, and the next 4.
struct W8 {
  a: vec4<f32>,
  b: vec4<f32>,
}

// The eight f16 weights packed in q, in order.
fn w8_of_halves(q: vec4<u32>) -> W8 {
  return W8(vec4<f32>(unpack2x16float(q.x), unpack2x16float(q.y)), vec4<f32>(unpack2x16float(q.z), unpack2x16float(q.w)));
}

// The four f16 weights of vec4 index i of a matrix bound as eights (array<vec4<u32>>): half of
// element i / 2, its first half for even i.
fn w4_of_halves(eights_at: vec4<u32>, i: u32) -> vec4<f32> {
  let h = select(eights_at.zw, eights_at.xy, (i & 1u) == 0u);
  return vec4<f32>(unpack2x16float(h.x), unpack2x16float(h.y));
}
