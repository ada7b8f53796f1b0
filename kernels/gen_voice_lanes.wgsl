enable subgroups;
// Every lane reads the voice's step and inputs from `state` itself, so the compiler cannot prove them
// uniform; they are (all lanes read the same words, and the subgroup is the whole workgroup), and
// carrying them in registers spares a workgroup barrier per step (lib_voice_lanes).
diagnostic(off, subgroup_uniformity);
// Fast generation on CPU adapters, one 8-lane subgroup per voice (lib_voice_lanes), weights in f32.
//! include lib_voice_lanes

@group(0) @binding(4) var<storage, read> all_w: array<vec4<f32>>;

fn w4(i: u32) -> vec4<f32> { return all_w[i >> 2u]; }
fn s4(i: u32) -> vec4<f32> { return all_w[(q.small_w + i) >> 2u]; }
