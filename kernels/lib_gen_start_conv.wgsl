// What the step-start kernels share (gen_step_start, gen_step_start_f16 through lib_gen_step_start,
// and gen_step_start_lanes): their bindings but the past-tap weights (binding 3, declared by the
// including kernel), and part (b) of the step start, the start conv and skip_start of each voice.
//! include lib_generation

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read> hist: array<f32>;
@group(0) @binding(4) var<storage, read> cond: array<f32>;          // [B][frames][cond_stride]
@group(0) @binding(5) var<storage, read> small_w: array<f32>;            // small weights
@group(0) @binding(6) var<storage, read_write> past: array<vec4<f32>>; // [L][B][2R/4]
@group(0) @binding(7) var<storage, read_write> l_and_s: array<f32>;       // [B][R+S]

const VB: u32 = 16u;   // voices per voice group: each weight read serves up to VB voices

fn x_hist(b: u32, slot: u32) -> f32 { return bitcast<f32>(state[p.B + b * 4u + slot]); }

fn start_l(b: u32, c: u32, x3: f32, x2: f32, x1: f32) -> f32 {
  let R = p.R;
  return small_w[p.at_start_b + c] + small_w[p.at_start_w + c] * x3 + small_w[p.at_start_w + R + c] * x2
    + small_w[p.at_start_w + 2u * R + c] * x1;
}

fn small4(at: u32) -> vec4<f32> { return vec4<f32>(small_w[at], small_w[at + 1u], small_w[at + 2u], small_w[at + 3u]); }

// Part (b) for thread k of the R/4 + S/4 after the past taps, for the nv voices from vg: thread
// k < R/4 writes l = startconv(x[t-3], x[t-2], x[t-1]) at channels 4k..4k+3, the next S/4 threads
// s = skip_start(l) at 4 channels each; any further thread writes nothing. skip_start(startconv(.))
// is read folded into one [3][S] map of the three samples (at_skip_fold_w/_b, packGenWeights:
// both convs are linear), 4 FMAs an output: written as the R-long sum it recomputed the start conv
// for every channel, lane by lane on a CPU adapter, and was the slow tail of the step start.
fn start_conv_and_skip(k: u32, vg: u32, nv: u32, t: u32) {
  let R = p.R;
  let S = p.S;
  let RS = R + S;
  for (var v = 0u; v < nv; v++) {
    let b = vg + v;
    let x1 = x_hist(b, (t + 3u) % 4u);   // x[t-1]
    let x2 = x_hist(b, (t + 2u) % 4u);   // x[t-2]
    let x3 = x_hist(b, (t + 1u) % 4u);   // x[t-3]
    if (k < R / 4u) {
      for (var j = 0u; j < 4u; j++) { l_and_s[b * RS + k * 4u + j] = start_l(b, k * 4u + j, x3, x2, x1); }
    } else if (k < RS / 4u) {
      let o = (k - R / 4u) * 4u;
      let fw = p.at_skip_fold_w + o;
      let s = small4(p.at_skip_fold_b + o) + small4(fw) * x3 + small4(fw + S) * x2 + small4(fw + 2u * S) * x1;
      for (var j = 0u; j < 4u; j++) { l_and_s[b * RS + R + o + j] = s[j]; }
    }
  }
}
