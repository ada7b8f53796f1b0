// The layer's gate (lib_gen_gate_tiles), current-tap weights in f32.
//! include lib_gen_gate_tiles

@group(0) @binding(3) var<storage, read> w_cur: array<vec4<f32>>;  // [L][R in][2R/4]

fn wc4(i: u32) -> vec4<f32> { return w_cur[i]; }
