// Second pass of batch norm's backward: adds the chunks of batch_norm_backward_stats, one workgroup
// per channel, and writes
//   dbeta[c] (+)= sum dy                          (accumulate = 1 adds to dbeta)
//   part[chunks * 2C + c]     = mean(dy)          (read by batch_norm_backward)
//   part[chunks * 2C + C + c] = mean(dy * xhat)

struct Params { channels: u32, chunks: u32, rows: u32, accumulate: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> dbeta: array<f32>;

var<workgroup> red_dy: array<f32, 256>;
var<workgroup> red_dyx: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let C = params.channels;
  // c is the same for the whole workgroup, so the barriers below stay in uniform control flow.
  for (var c = wg.x; c < C; c += nwg.x) {
    var s_dy = 0.0;
    var s_dyx = 0.0;
    for (var z = lid.x; z < params.chunks; z += 256u) {
      s_dy += part[z * 2u * C + c];
      s_dyx += part[z * 2u * C + C + c];
    }
    red_dy[lid.x] = s_dy;
    red_dyx[lid.x] = s_dyx;
    workgroupBarrier();
    for (var k = 128u; k > 0u; k >>= 1u) {
      if (lid.x < k) {
        red_dy[lid.x] += red_dy[lid.x + k];
        red_dyx[lid.x] += red_dyx[lid.x + k];
      }
      workgroupBarrier();
    }
    if (lid.x == 0u) {
      var db = red_dy[0];
      if (params.accumulate != 0u) { db += dbeta[c]; }
      dbeta[c] = db;
      let base = params.chunks * 2u * C;
      let n = f32(params.rows);
      part[base + c] = red_dy[0] / n;
      part[base + C + c] = red_dyx[0] / n;
    }
    workgroupBarrier(); // the reduction arrays are reused for the next channel
  }
}
