enable subgroups;
// The step start for CPU adapters with subgroups (lib_gen_step_start_lanes), past-tap weights in f32.
//! include lib_gen_step_start_lanes

@group(0) @binding(3) var<storage, read> w_past: array<vec4<f32>>;   // [L][2R in][2R/4]

fn wp4(i: u32) -> vec4<f32> { return w_past[i]; }
