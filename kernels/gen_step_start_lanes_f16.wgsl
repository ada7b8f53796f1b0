enable subgroups;
// The step start for CPU adapters with subgroups (lib_gen_step_start_lanes), past-tap weights
// stored as f16 pairs (the layered path's f16 storage).
//! include lib_gen_step_start_lanes

// [L][2R in][2R/4] f16 pairs read two at a time: element (row, o8) holds outputs 8 o8 .. 8 o8 + 7
@group(0) @binding(3) var<storage, read> w_past: array<vec4<u32>>;

fn wp8(i: u32) -> W8 { return w8_of_halves(w_past[i]); }
