// Per-channel partial sums over chunks of rows, the first pass of batch norm's statistics
// (x is [N, C], rows of C channels):
//   mode 0: part[z, c] = sum_{r in chunk z} x[r, c]
//   mode 1: part[z, c] = sum_{r in chunk z} (x[r, c] - mean[c])^2
// batch_norm_stats_sum adds the chunks. The variance is the mean of squared deviations from a
// mean already known (two passes) because E[x^2] - E[x]^2 cancels catastrophically in f32 when
// |mean| >> std.
//
// Workgroup (wg.x, wg.y) takes channels wg.x * col_width + [0, col_width) of chunk wg.y: the 256
// threads form 256 / col_width lanes of col_width adjacent channels, so neighbouring threads read
// neighbouring addresses of a row (or neighbouring rows when C is small), and each lane walks
// every (256 / col_width)-th row of the chunk. col_width is a power of two <= 64 (the host picks
// the smallest that covers C).

struct Params { rows: u32, channels: u32, chunk_rows: u32, col_width: u32, mode: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let cw = params.col_width;
  let lanes = 256u / cw;
  let lane = lid.x / cw;
  let c = wg.x * cw + lid.x % cw;
  let r0 = wg.y * params.chunk_rows;
  let r1 = min(r0 + params.chunk_rows, params.rows);
  var s = 0.0;
  if (c < params.channels) {
    if (params.mode == 0u) {
      for (var r = r0 + lane; r < r1; r += lanes) { s += x[r * params.channels + c]; }
    } else {
      let m = mean[c];
      for (var r = r0 + lane; r < r1; r += lanes) {
        let d = x[r * params.channels + c] - m;
        s += d * d;
      }
    }
  }
  red[lid.x] = s;
  workgroupBarrier();
  // Tree over the lanes of each channel (lanes is a power of two; the stride keeps channels apart).
  for (var k = lanes / 2u; k > 0u; k >>= 1u) {
    if (lane < k) { red[lid.x] += red[lid.x + k * cw]; }
    workgroupBarrier();
  }
  if (lane == 0u && c < params.channels) { part[wg.y * params.channels + c] = red[lid.x]; }
}
