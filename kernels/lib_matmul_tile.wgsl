// The tiled matmul core shared by conv1d and its two backward kernels (included with
// `//! include lib_matmul_tile`): out[row, col] = sum_{r in [r_begin, r_end)} A(row, r) * B(r, col)
// over a 64 x 128 output tile per 16 x 16 workgroup. The including kernel supplies the operands and
// the epilogue, which is all that differs between the three convolutions:
//   fn load_a(row: u32, r: u32) -> f32              (0 outside the operand)
//   fn load_b4(r: u32, col: u32) -> vec4<f32>       (columns col..col+3, 0 outside)
//   fn store(row: u32, col: u32, acc: f32)          (bounds-checked by the kernel)

const TM: u32 = 64u;   // rows per tile
const TN: u32 = 128u;  // columns per tile
const TK: u32 = 16u;   // reduction chunk

var<workgroup> As: array<f32, 1024>;        // [TK][TM]
var<workgroup> Bs: array<vec4<f32>, 512>;   // [TK][TN / 4]

// 256 threads; thread (lx, ly) owns rows ly + 16i (i < 4) and the 8 columns of vec4 columns
// lx and lx + 16: 32 accumulators in eight vec4s, so each inner step is 6 loads for 32 FMAs.
fn tile_matmul(row0: u32, col0: u32, r_begin: u32, r_end: u32, lid: vec3u) {
  let lin = lid.y * 16u + lid.x;
  var c00 = vec4<f32>(); var c01 = vec4<f32>();
  var c10 = vec4<f32>(); var c11 = vec4<f32>();
  var c20 = vec4<f32>(); var c21 = vec4<f32>();
  var c30 = vec4<f32>(); var c31 = vec4<f32>();
  for (var r0 = r_begin; r0 < r_end; r0 += TK) {
    for (var i = 0u; i < 4u; i++) {
      let e = lin + i * 256u;      // 0..1023 over the [TK][TM] tile of A
      let r = r0 + e / TM;
      As[e] = select(0.0, load_a(row0 + e % TM, r), r < r_end);
    }
    for (var i = 0u; i < 2u; i++) {
      let e = lin + i * 256u;      // 0..511 over the [TK][TN/4] tile of B
      let r = r0 + e / 32u;
      Bs[e] = select(vec4<f32>(), load_b4(r, col0 + (e % 32u) * 4u), r < r_end);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a0 = As[kk * TM + lid.y];
      let a1 = As[kk * TM + lid.y + 16u];
      let a2 = As[kk * TM + lid.y + 32u];
      let a3 = As[kk * TM + lid.y + 48u];
      let b0 = Bs[kk * 32u + lid.x];
      let b1 = Bs[kk * 32u + lid.x + 16u];
      c00 = fma(vec4<f32>(a0), b0, c00); c01 = fma(vec4<f32>(a0), b1, c01);
      c10 = fma(vec4<f32>(a1), b0, c10); c11 = fma(vec4<f32>(a1), b1, c11);
      c20 = fma(vec4<f32>(a2), b0, c20); c21 = fma(vec4<f32>(a2), b1, c21);
      c30 = fma(vec4<f32>(a3), b0, c30); c31 = fma(vec4<f32>(a3), b1, c31);
    }
    workgroupBarrier();
  }
  let cA = col0 + lid.x * 4u;
  let cB = col0 + (lid.x + 16u) * 4u;
  let rows = array<u32, 4>(row0 + lid.y, row0 + lid.y + 16u, row0 + lid.y + 32u, row0 + lid.y + 48u);
  let accA = array<vec4<f32>, 4>(c00, c10, c20, c30);
  let accB = array<vec4<f32>, 4>(c01, c11, c21, c31);
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      store(rows[i], cA + j, accA[i][j]);
      store(rows[i], cB + j, accB[i][j]);
    }
  }
}
