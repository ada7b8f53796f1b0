// First pass of batch norm's backward: per-channel partial sums over chunks of rows of
//   part[z, c]     = sum_{r in chunk z} dy[r, c]
//   part[z, C + c] = sum_{r in chunk z} dy[r, c] * xhat[r, c],   xhat = (x - mean) * inv_std
// tiled as batch_norm_stats (col_width adjacent channels per lane, 256 / col_width lanes).

struct Params { rows: u32, channels: u32, chunk_rows: u32, col_width: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> inv_std: array<f32>;
@group(0) @binding(5) var<storage, read_write> part: array<f32>;

var<workgroup> red_dy: array<f32, 256>;
var<workgroup> red_dyx: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let cw = params.col_width;
  let lanes = 256u / cw;
  let lane = lid.x / cw;
  let c = wg.x * cw + lid.x % cw;
  let r0 = wg.y * params.chunk_rows;
  let r1 = min(r0 + params.chunk_rows, params.rows);
  var s_dy = 0.0;
  var s_dyx = 0.0;
  if (c < params.channels) {
    let m = mean[c];
    let inv = inv_std[c];
    for (var r = r0 + lane; r < r1; r += lanes) {
      let i = r * params.channels + c;
      let g = dy[i];
      s_dy += g;
      s_dyx += g * (x[i] - m) * inv;
    }
  }
  red_dy[lid.x] = s_dy;
  red_dyx[lid.x] = s_dyx;
  workgroupBarrier();
  for (var k = lanes / 2u; k > 0u; k >>= 1u) {
    if (lane < k) {
      red_dy[lid.x] += red_dy[lid.x + k * cw];
      red_dyx[lid.x] += red_dyx[lid.x + k * cw];
    }
    workgroupBarrier();
  }
  if (lane == 0u && c < params.channels) {
    let base = wg.y * 2u * params.channels;
    part[base + c] = red_dy[lid.x];
    part[base + params.channels + c] = red_dyx[lid.x];
  }
}
