// Parameters and bindings of the log-softmax cross-entropy, shared by its two variants:
// log_softmax_nll.wgsl (a workgroup per row) and log_softmax_nll_rows.wgsl (a row per invocation).
// Included with `//! include lib_log_softmax_nll`.

struct Params { rows: u32, classes: u32, rows_per_y: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> logp: array<f32>;
@group(0) @binding(4) var<storage, read_write> nll: array<f32>;
