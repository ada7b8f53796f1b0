// Fast generation, one dispatch per layer with the matrices stored a row per output
// (lib_gen_layer_rows), weights as f16 pairs (unpack2x16float: the even weight in the low half)
// and the arithmetic in f32: half the bytes, without needing the adapter's shader-f16 feature.
//! include lib_gen_layer_rows

@group(0) @binding(3) var<storage, read> w_gate: array<vec2<u32>>;      // [L][2R out][2R in / 4] as f16
@group(0) @binding(4) var<storage, read> w_res_skip: array<vec2<u32>>;  // [L][R+S out][R in / 4] as f16

fn unpack4(h: vec2<u32>) -> vec4<f32> { return vec4<f32>(unpack2x16float(h.x), unpack2x16float(h.y)); }
fn wg4(i: u32) -> vec4<f32> { return unpack4(w_gate[i]); }
fn wr4(i: u32) -> vec4<f32> { return unpack4(w_res_skip[i]); }
