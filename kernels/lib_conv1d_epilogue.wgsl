// The parameters and epilogue of conv1d (see kernels/conv1d.wgsl for the maths): bias, frame bias,
// accumulate, residual input and output ReLU, applied per output element by store(row, co, acc).
// Shared by every conv1d variant, whatever its operand layout. Included with
// `//! include lib_conv1d_epilogue`; the includer declares x (binding 1) and W (binding 2).

struct Params {
  T: u32,          // time steps per batch item
  rows: u32,       // B * T
  cin: u32,
  cout: u32,
  taps: u32,       // K
  dilation: u32,
  offset: i32,     // time offset of tap 0
  flags: u32,      // 1 relu_in, 2 relu_out, 4 accumulate, 8 bias, 16 frame bias, 32 residual input
  frame_len: u32,  // samples per conditioning frame (512)
  frames: u32,     // frames per batch item
  fb_stride: u32,  // floats per frame row in fbias
  fb_offset: u32,  // first float of this layer's slice in a frame row
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> fbias: array<f32>;
@group(0) @binding(5) var<storage, read> resid: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

fn store(row: u32, co: u32, acc: f32) {
  if (row >= params.rows || co >= params.cout) { return; }
  let b = row / params.T;
  let t = row % params.T;
  var v = acc;
  if ((params.flags & 8u) != 0u) { v += bias[co]; }
  if ((params.flags & 16u) != 0u) {
    let f = b * params.frames + t / params.frame_len;
    v += fbias[f * params.fb_stride + params.fb_offset + co];
  }
  let o = row * params.cout + co;
  if ((params.flags & 4u) != 0u) { v += y[o]; }
  if ((params.flags & 32u) != 0u) { v += resid[o]; }
  if ((params.flags & 2u) != 0u) { v = max(v, 0.0); }
  y[o] = v;
}

// store() for the four columns co..co+3 at once (Cout divisible by 4, so they are all in or all
// out): the options are tested once per vec4, which the lanes kernels' short reductions notice.
fn store4(row: u32, co: u32, acc: vec4<f32>) {
  if (row >= params.rows || co >= params.cout) { return; }
  var v = acc;
  if ((params.flags & 8u) != 0u) { v += vec4<f32>(bias[co], bias[co + 1u], bias[co + 2u], bias[co + 3u]); }
  if ((params.flags & 16u) != 0u) {
    let f = (row / params.T) * params.frames + (row % params.T) / params.frame_len;
    let i = f * params.fb_stride + params.fb_offset + co;
    v += vec4<f32>(fbias[i], fbias[i + 1u], fbias[i + 2u], fbias[i + 3u]);
  }
  let o = row * params.cout + co;
  if ((params.flags & 4u) != 0u) { v += vec4<f32>(y[o], y[o + 1u], y[o + 2u], y[o + 3u]); }
  if ((params.flags & 32u) != 0u) { v += vec4<f32>(resid[o], resid[o + 1u], resid[o + 2u], resid[o + 3u]); }
  if ((params.flags & 2u) != 0u) { v = max(v, vec4<f32>()); }
  y[o] = v.x;
  y[o + 1u] = v.y;
  y[o + 2u] = v.z;
  y[o + 3u] = v.w;
}
