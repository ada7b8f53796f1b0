enable subgroups;
// The step start for CPU adapters with subgroups (lib_gen_step_start_lanes), past-tap weights stored
// as f16 pairs (the fused path's f16 storage). On lavapipe the loop reads weights lane by lane, and
// half the bytes a read made its two-row loop 1.2x faster (bench/matvec-mappings.mjs, `taps`).
//! include lib_gen_step_start_lanes

@group(0) @binding(3) var<storage, read> w_past: array<vec2<u32>>;   // [L][2R in][2R/4] as f16

fn wp4(i: u32) -> vec4<f32> { let h = w_past[i]; return vec4<f32>(unpack2x16float(h.x), unpack2x16float(h.y)); }
