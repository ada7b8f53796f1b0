// Magenta's mu-law quantisation (mu = 255): q = floor(128 * sign(x) ln(1 + 255|x|) / ln 256),
// clamped to [-128, 127] (x = +1.0 would give 128; |x| > 1 is clamped too). Emits the network input q / 128 and the
// class
// q + 128. Instead of evaluating the logarithm in f32 (whose rounding differs between GPUs), |x| is
// compared with the exact bin edges, computed once in float64 on the host:
//   edges[k] = (256^(k/128) - 1) / 255, k = 0..128;
//   x >= 0: q = #{k >= 1 : edges[k] <= |x|};   x < 0: q = -#{k >= 0 : edges[k] < |x|}.

struct Params { n: u32, }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> audio: array<f32>;
@group(0) @binding(2) var<storage, read> edges: array<f32>;   // 129 values
@group(0) @binding(3) var<storage, read_write> scaled: array<f32>;
@group(0) @binding(4) var<storage, read_write> classes: array<u32>;

// Number of edges[1..128] that are <= a (strict = false) or < a (strict = true).
fn count_below(a: f32, strict: bool) -> i32 {
  var lo = 1;
  var hi = 129;   // first index whose edge is not counted, searched in [1, 129)
  while (lo < hi) {
    let mid = (lo + hi) / 2;
    let e = edges[mid];
    let counted = select(e <= a, e < a, strict);
    if (counted) { lo = mid + 1; } else { hi = mid; }
  }
  return lo - 1;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < params.n; i += nwg.x * 256u) {
    let v = audio[i];
    let a = abs(v);
    var q: i32;
    if (v >= 0.0) {
      q = min(count_below(a, false), 127);
    } else {
      q = max(-(count_below(a, true) + 1), -128);   // edges[0] = 0 < a always counts
    }
    scaled[i] = f32(q) / 128.0;
    classes[i] = u32(q + 128);
  }
}
