enable subgroups;
// Every lane reads the voice's step and inputs from `state` itself, so the compiler cannot prove them
// uniform; they are (all lanes read the same words, and the subgroup is the whole workgroup), and
// carrying them in registers spares a workgroup barrier per step (lib_voice_lanes).
diagnostic(off, subgroup_uniformity);
// Fast generation on CPU adapters, one 8-lane subgroup per voice (lib_voice_lanes), weights stored as
// f16 pairs (unpack2x16float: the even weight in the low half). Every weight read is a per-lane
// gather, about 70% of a step in f32; half the bytes make batch 1 1.1-1.5x faster on lavapipe (h32_pitch).
// Chosen only where every weight is exactly an f16 (as the shipped model's are), so the arithmetic
// and the results are those of gen_voice_lanes.
//! include lib_voice_lanes

@group(0) @binding(4) var<storage, read> all_w: array<vec2<u32>>;

fn unpack4(h: vec2<u32>) -> vec4<f32> { return vec4<f32>(unpack2x16float(h.x), unpack2x16float(h.y)); }
fn w4(i: u32) -> vec4<f32> { return unpack4(all_w[i >> 2u]); }
fn s4(i: u32) -> vec4<f32> { return unpack4(all_w[(q.small_w + i) >> 2u]); }
