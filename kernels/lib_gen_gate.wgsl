// What gen_gate and gen_gate_lanes(_f16) share: their bindings but the current tap's weights (the
// including kernel declares w_cur, binding 3, and wc4, which reads vec4 i of it as f32), the voice
// tile, a lone voice's straight-line step (nothing to share a weight read with, so nothing for the
// lanes to gain) and the stores of the gate and of layer i's ring row.
//! include lib_generation

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read> past: array<vec4<f32>>;   // [L][B][2R/4]
@group(0) @binding(4) var<storage, read> l_and_s: array<f32>;      // [B][R+S]
@group(0) @binding(5) var<storage, read_write> hist: array<f32>;
@group(0) @binding(6) var<storage, read_write> gated: array<vec4<f32>>; // [B][R/4]

const VB: u32 = 16u;   // voices per voice group (the host's VOICE_TILE): each weight read serves up to VB voices

// Where layer p.layer's step reads and writes: its offsets into past (pb) and w_cur (wb), and the
// ring row that receives this step's layer input (row t mod 2d, which the past taps have read).
struct GateLayer { pb: u32, wb: u32, row: u32 }

fn gate_layer() -> GateLayer {
  let i = p.layer;
  let R2q = p.R / 2u;
  let d = dilation_of(i, p.lps);
  let row = ring_base(i, p) + (state[0] % (2u * d)) * p.B * p.R;
  return GateLayer(i * p.B * R2q, i * p.R * R2q, row);
}

// Voice b's gate output vec4 o4, and its layer input's 4 channels into the ring row `row`.
fn store_gate(b: u32, o4: u32, f: vec4<f32>, s: vec4<f32>, row: u32) {
  let R = p.R;
  let RS = R + p.S;
  gated[b * (R / 4u) + o4] = sigmoid4(f) * tanh4(s);
  for (var j = 0u; j < 4u; j++) { hist[row + b * R + o4 * 4u + j] = l_and_s[b * RS + o4 * 4u + j]; }
}

// A voice group of one voice b: the current tap on the past taps, no voice loop.
// pb, wb: layer i's offsets into past and w_cur.
fn gate_one_voice(b: u32, o4: u32, pb: u32, wb: u32, row: u32) {
  let R = p.R;
  let Rq = R / 4u;
  let R2q = 2u * Rq;
  let RS = R + p.S;
  var f1 = past[pb + b * R2q + o4];
  var s1 = past[pb + b * R2q + Rq + o4];
  for (var c = 0u; c < R; c++) {
    let l = vec4<f32>(l_and_s[b * RS + c]);
    f1 = fma(l, wc4(wb + c * R2q + o4), f1);
    s1 = fma(l, wc4(wb + c * R2q + Rq + o4), s1);
  }
  store_gate(b, o4, f1, s1, row);
}
