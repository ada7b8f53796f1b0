// Fast generation, one dispatch per layer with the matrices stored a row per output
// (lib_gen_layer_rows), weights in f32.
//! include lib_gen_layer_rows

@group(0) @binding(3) var<storage, read> w_gate: array<vec4<f32>>;      // [L][2R out][2R in / 4]
@group(0) @binding(4) var<storage, read> w_res_skip: array<vec4<f32>>;  // [L][R+S out][R in / 4]

fn wg4(i: u32) -> vec4<f32> { return w_gate[i]; }
fn wr4(i: u32) -> vec4<f32> { return w_res_skip[i]; }
