// Shared by the fast-generation kernels (included with `//! include lib_generation`): the step
// parameters and the layout of the per-voice state.
//
// state (u32): [0, B) step counter per voice (all voices advance in lock-step; the head kernel's
// workgroup b is the only writer of counter b, so no dispatch races on it; the other kernels read
// counter 0), then per voice 4 slots of the decoder's input history x_scaled (f32 bits), slot
// t % 4 holding the input of step t + 1, then per voice its RNG key (lib_sample_categorical).
// l_and_s (f32): per voice [l (R) | s (S)], the residual stream and the skip sum of the current step.
// hist (f32): per layer a ring of 2d rows x B voices x R: the layer's input l at the last 2d steps.
//
// Layer groups: where one binding cannot hold every layer's ring or conditioning for all the
// instance's voices (lavapipe binds at most 128 MiB; h512_bo16's rings take 12.6 MB a voice and its
// conditioning 15.5 MB a voice for 4 s), the layers are split into consecutive groups, each with
// its own ring buffer (its layers' rings, first layer first) and its own conditioning buffer
// ([B][frames][cond_stride]: its layers' 2R columns each, then in the last group the head's S).
// A dispatch binds one group's buffers: group_first and group_layers say which. One group holding
// every layer is the whole-model layout the voice loops read.

struct GenParams {
  B: u32,            // voices
  R: u32,            // residual width
  S: u32,            // skip width
  L: u32,            // decoder layers
  lps: u32,          // layers per stage (dilation 2^(i mod lps))
  frames: u32,       // frames per voice
  hop: u32,          // samples per frame
  steps: u32,        // samples per voice (frames * hop)
  cond_stride: u32,  // floats per row of the bound conditioning: group_layers*2R (+ S in the last group)
  layer: u32,        // this dispatch's layer (0-based), for per-layer kernels
  group_first: u32,  // first layer of the group whose ring and conditioning buffers are bound
  group_layers: u32, // layers in that group
  temperature: f32,
  flags: u32,        // 1 teacher forcing, 2 record logits
  at_start_w: u32,   // offsets into the small-weights buffer small_w
  at_start_b: u32,
  at_skip_start_w: u32,
  at_skip_start_b: u32,
  at_res_skip_b: u32,
  at_out1_w: u32,
  at_logits_w: u32,
  at_logits_b: u32,
  at_skip_fold_w: u32,  // skip_start o startconv as [3][S] weights on x[t-3], x[t-2], x[t-1]
  at_skip_fold_b: u32,  // and [S] biases
}

// The voice loops' own parameters (gen_voice_loop, gen_voice_lanes), beside GenParams.
struct LoopParams {
  nsteps: u32,
  w_past: u32,   // offsets into all_w (floats; divisible by 4 for gen_voice_lanes)
  w_cur: u32,
  w_res_skip: u32,
  small_w: u32,
}

fn dilation_of(layer: u32, lps: u32) -> u32 { return 1u << (layer % lps); }

// First float of layer `layer`'s ring in hist (the bound group's ring buffer).
fn ring_base(layer: u32, p: GenParams) -> u32 {
  var rows = 0u;
  for (var j = p.group_first; j < layer; j++) { rows += 2u * dilation_of(j, p.lps); }
  return rows * p.B * p.R;
}

// Voice b's rows of layer `layer`'s ring at step t, as float offsets into hist: x = row of t - 2d
// (which this step then overwrites with its own layer input), y = row of t - d.
fn tap_rows(layer: u32, t: u32, b: u32, p: GenParams) -> vec2<u32> {
  let d = dilation_of(layer, p.lps);
  let base = ring_base(layer, p);
  return vec2<u32>(base + ((t % (2u * d)) * p.B + b) * p.R, base + (((t + d) % (2u * d)) * p.B + b) * p.R);
}

fn sigmoid4(v: vec4<f32>) -> vec4<f32> { return 1.0 / (1.0 + exp(-v)); }
fn tanh4(v: vec4<f32>) -> vec4<f32> { let e = exp(-2.0 * abs(v)); return sign(v) * (1.0 - e) / (1.0 + e); }
