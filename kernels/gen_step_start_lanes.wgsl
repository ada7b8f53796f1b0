enable subgroups;
// The step start for CPU adapters with subgroups (lib_gen_step_start_lanes), past-tap weights in f32.
//! include lib_gen_step_start_lanes

@group(0) @binding(3) var<storage, read> w_past: array<vec4<f32>>;   // [L][2R in][2R/4]

// outputs 8 o8 .. 8 o8 + 7 of a row, at o8 = row * R/4 + o8 (two vec4s)
fn wp8(i: u32) -> W8 { return W8(w_past[2u * i], w_past[2u * i + 1u]); }
