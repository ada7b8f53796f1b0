// Benchmark probe: a dispatch that does (almost) nothing, to measure the cost of a dispatch.
@group(0) @binding(0) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(1)
fn main() { sink[0] = sink[0] + 1.0; }
