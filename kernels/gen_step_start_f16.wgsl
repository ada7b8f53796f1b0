// Fast generation, first dispatch of a step (lib_gen_step_start), past-tap weights stored as f16
// pairs (the fused path's f16 storage: the past taps are half of a large model's step bytes).
//! include lib_gen_step_start

@group(0) @binding(3) var<storage, read> w_past: array<vec2<u32>>;   // [L][2R in][2R/4] as f16

fn wp4(i: u32) -> vec4<f32> { return vec4<f32>(unpack2x16float(w_past[i].x), unpack2x16float(w_past[i].y)); }
