// The narrow variant of lib_matmul_tile (same interface: load_a, load_b4, store and
// tile_matmul(row0, col0, r_begin, r_end, lid)): 128 x 32 output tiles per 16 x 16 workgroup, for
// convolutions with at most 32..64 output columns, where the wide 64 x 128 tile would spend most
// of its arithmetic on padding. Included with `//! include lib_matmul_tile_narrow`.

const TM: u32 = 128u;  // rows per tile
const TN: u32 = 32u;   // columns per tile
const TK: u32 = 16u;   // reduction chunk

var<workgroup> As: array<f32, 2048>;        // [TK][TM]
var<workgroup> Bs: array<vec4<f32>, 128>;   // [TK][TN / 4]

// Thread lin owns the vec4 column group lin % 8 and the rows lin / 8 + 32 i (i < 4).
fn tile_matmul(row0: u32, col0: u32, r_begin: u32, r_end: u32, lid: vec3u) {
  let lin = lid.y * 16u + lid.x;
  let cg = lin % 8u;
  let rg = lin / 8u;
  var c0 = vec4<f32>(); var c1 = vec4<f32>();
  var c2 = vec4<f32>(); var c3 = vec4<f32>();
  for (var r0 = r_begin; r0 < r_end; r0 += TK) {
    for (var i = 0u; i < 8u; i++) {
      let e = lin + i * 256u;      // 0..2047 over the [TK][TM] tile of A
      let r = r0 + e / TM;
      As[e] = select(0.0, load_a(row0 + e % TM, r), r < r_end);
    }
    if (lin < 128u) {
      let r = r0 + lin / 8u;       // 0..127 over the [TK][TN/4] tile of B
      Bs[lin] = select(vec4<f32>(), load_b4(r, col0 + (lin % 8u) * 4u), r < r_end);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let b = Bs[kk * 8u + cg];
      c0 = fma(vec4<f32>(As[kk * TM + rg]), b, c0);
      c1 = fma(vec4<f32>(As[kk * TM + rg + 32u]), b, c1);
      c2 = fma(vec4<f32>(As[kk * TM + rg + 64u]), b, c2);
      c3 = fma(vec4<f32>(As[kk * TM + rg + 96u]), b, c3);
    }
    workgroupBarrier();
  }
  let c = col0 + cg * 4u;
  let acc = array<vec4<f32>, 4>(c0, c1, c2, c3);
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) { store(row0 + rg + 32u * i, c + j, acc[i][j]); }
  }
}
