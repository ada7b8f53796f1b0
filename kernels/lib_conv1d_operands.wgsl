// Operands of the tiled conv1d (see kernels/conv1d.wgsl for the maths), shared by its wide and
// narrow tile variants: x and W as scalars, read element by element into the tiles.
// Included with `//! include lib_conv1d_operands`.

//! include lib_conv1d_epilogue

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;

fn load_a(row: u32, r: u32) -> f32 {
  let cin = params.cin;
  if (row >= params.rows || r >= params.taps * cin) { return 0.0; }
  let b = row / params.T;
  let t = i32(row % params.T);
  let k = r / cin;
  let ci = r % cin;
  let ts = t + i32(k * params.dilation) + params.offset;
  if (ts < 0 || ts >= i32(params.T)) { return 0.0; }
  var v = x[(b * params.T + u32(ts)) * cin + ci];
  if ((params.flags & 1u) != 0u) { v = max(v, 0.0); }
  return v;
}

fn load_w(r: u32, co: u32) -> f32 {
  if (co >= params.cout) { return 0.0; }
  return W[r * params.cout + co];
}

fn load_b4(r: u32, co: u32) -> vec4<f32> {
  if (r >= params.taps * params.cin) { return vec4<f32>(); }
  if (co + 3u < params.cout) {
    let base = r * params.cout + co;
    return vec4<f32>(W[base], W[base + 1u], W[base + 2u], W[base + 3u]);
  }
  return vec4<f32>(load_w(r, co), load_w(r, co + 1u), load_w(r, co + 2u), load_w(r, co + 3u));
}
