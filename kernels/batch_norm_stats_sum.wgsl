// Second pass of batch norm's statistics: adds the chunks of batch_norm_stats, one workgroup per
// channel (a tree over the chunks, so no thread walks them all):
//   mode 0: out[c] = sum_z part[z, c] / rows                      (the mean)
//   mode 1: out[c] = 1 / sqrt(sum_z part[z, c] / rows + eps)      (invStd from the biased variance)

struct Params { channels: u32, chunks: u32, rows: u32, eps: f32, mode: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  // c is the same for the whole workgroup, so the barriers below stay in uniform control flow.
  for (var c = wg.x; c < params.channels; c += nwg.x) {
    var s = 0.0;
    for (var z = lid.x; z < params.chunks; z += 256u) { s += part[z * params.channels + c]; }
    red[lid.x] = s;
    workgroupBarrier();
    for (var k = 128u; k > 0u; k >>= 1u) {
      if (lid.x < k) { red[lid.x] += red[lid.x + k]; }
      workgroupBarrier();
    }
    if (lid.x == 0u) {
      let m = red[0] / f32(params.rows);
      out[c] = select(m, 1.0 / sqrt(m + params.eps), params.mode == 1u);
    }
    workgroupBarrier(); // red is reused for the next channel
  }
}
