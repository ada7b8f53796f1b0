enable subgroups;
// The layer's gate for CPU adapters with subgroups (lib_gen_gate_lanes), current-tap weights in f32.
//! include lib_gen_gate_lanes

@group(0) @binding(3) var<storage, read> w_cur: array<vec4<f32>>;  // [L][R in][2R/4]

fn wc4(i: u32) -> vec4<f32> { return w_cur[i]; }
fn wc8(j: u32) -> W8 { return W8(w_cur[2u * j], w_cur[2u * j + 1u]); }
