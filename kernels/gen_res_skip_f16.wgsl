// The layer's [res | skip] (lib_gen_res_skip_tiles), weights stored as f16 pairs (the layered
// path's f16 storage).
//! include lib_gen_res_skip_tiles

@group(0) @binding(1) var<storage, read> w_res_skip: array<vec2<u32>>;  // [L][R in][(R+S)/4] as f16

fn wrs4(i: u32) -> vec4<f32> { let h = w_res_skip[i]; return vec4<f32>(unpack2x16float(h.x), unpack2x16float(h.y)); }
