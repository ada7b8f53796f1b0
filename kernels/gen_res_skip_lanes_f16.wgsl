enable subgroups;
// The layer's [res | skip] for CPU adapters with subgroups (lib_gen_res_skip_lanes), weights stored
// as f16 pairs (the layered path's f16 storage).
//! include lib_gen_res_skip_lanes

// read 16 bytes at a time: element j holds weights 8 j .. 8 j + 7
@group(0) @binding(1) var<storage, read> w_res_skip: array<vec4<u32>>;  // [L][R in][(R+S)/4] as f16

fn wrs4(i: u32) -> vec4<f32> {
  let q = w_res_skip[i >> 1u];
  let h = select(q.zw, q.xy, (i & 1u) == 0u);
  return vec4<f32>(unpack2x16float(h.x), unpack2x16float(h.y));
}
fn wrs8(j: u32) -> W8 {
  let q = w_res_skip[j];
  return W8(vec4<f32>(unpack2x16float(q.x), unpack2x16float(q.y)), vec4<f32>(unpack2x16float(q.z), unpack2x16float(q.w)));
}
