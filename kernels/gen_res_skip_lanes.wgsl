enable subgroups;
// The layer's [res | skip] for CPU adapters with subgroups (lib_gen_res_skip_lanes), weights in f32.
//! include lib_gen_res_skip_lanes

@group(0) @binding(1) var<storage, read> w_res_skip: array<vec4<f32>>;  // [L][R in][(R+S)/4]

fn wrs4(i: u32) -> vec4<f32> { return w_res_skip[i]; }
fn wrs8(j: u32) -> W8 { return W8(w_res_skip[2u * j], w_res_skip[2u * j + 1u]); }
