enable subgroups;
// The layer's gate for CPU adapters with subgroups (lib_gen_gate_lanes), current-tap weights stored
// as f16 pairs (the layered path's f16 storage).
//! include lib_gen_gate_lanes

// read 16 bytes at a time: element j holds weights 8 j .. 8 j + 7
@group(0) @binding(3) var<storage, read> w_cur: array<vec4<u32>>;  // [L][R in][2R/4] as f16

fn wc4(i: u32) -> vec4<f32> { return w4_of_halves(w_cur[i >> 1u], i); }
fn wc8(j: u32) -> W8 { return w8_of_halves(w_cur[j]); }
