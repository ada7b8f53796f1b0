// The WaveNet gate's nonlinearities, shared by the gate and its backward kernel
// (included with `//! include lib_activations`).

fn sigmoid(v: f32) -> f32 { return 1.0 / (1.0 + exp(-v)); }
// tanh through exp(-2|v|), which never overflows (some implementations' tanh returns NaN for large |v|).
fn tanh_safe(v: f32) -> f32 { let e = exp(-2.0 * abs(v)); return sign(v) * (1.0 - e) / (1.0 + e); }
