// The layer's [res | skip] (lib_gen_res_skip_tiles), weights in f32.
//! include lib_gen_res_skip_tiles

@group(0) @binding(1) var<storage, read> w_res_skip: array<vec4<f32>>;  // [L][R in][(R+S)/4]

fn wrs4(i: u32) -> vec4<f32> { return w_res_skip[i]; }
