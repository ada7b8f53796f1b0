// The layer's gate (lib_gen_gate_tiles), current-tap weights stored as f16 pairs (the layered
// path's f16 storage).
//! include lib_gen_gate_tiles

@group(0) @binding(3) var<storage, read> w_cur: array<vec2<u32>>;  // [L][R in][2R/4] as f16

fn wc4(i: u32) -> vec4<f32> { let h = w_cur[i]; return vec4<f32>(unpack2x16float(h.x), unpack2x16float(h.y)); }
