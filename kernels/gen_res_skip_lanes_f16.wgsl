enable subgroups;
// The layer's [res | skip] for CPU adapters with subgroups (lib_gen_res_skip_lanes), weights stored
// as f16 pairs (the layered path's f16 storage).
//! include lib_gen_res_skip_lanes

// read 16 bytes at a time: element j holds weights 8 j .. 8 j + 7
@group(0) @binding(1) var<storage, read> w_res_skip: array<vec4<u32>>;  // [L][R in][(R+S)/4] as f16

fn wrs4(i: u32) -> vec4<f32> { return w4_of_halves(w_res_skip[i >> 1u], i); }
fn wrs8(j: u32) -> W8 { return w8_of_halves(w_res_skip[j]); }
