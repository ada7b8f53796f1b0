// The fused path's weights (kernels/lib_gen_layer_fused.wgsl): per layer i the gate matrix
// [W_cur(i) ; W_res(i-1) W_cur(i)] ([2R in][2R out]; layer 0 has no fold and keeps zeros), the
// conditioning biases with W_cur(i) b_res(i-1) folded in, and, for f16 storage, the gate and
// [res | skip] and past-tap matrices as f16 pairs. In the rows layout (lib_gen_layer_rows.wgsl) the
// gate and [res | skip] matrices are stored transposed, a row per output, in either storage. The products are computed on the device with the conv1d op
// (a 1-tap conv is a matmul), so a large model pays milliseconds on a GPU rather than seconds of
// host arithmetic; the fold's rounding is checked by the teacher-forcing tests against the decoder.
import type { Engine } from '../gpu/engine.js';
import type { Tensor } from '../gpu/tensor.js';
import { decoderLayers } from '../model/config.js';
import type { Weights } from '../model/weights.js';
import { conv1d } from '../ops/conv1d.js';
import { destroyDispatches } from '../gpu/registry.js';
import { floatsToHalf } from '../formats/half.js';

/** How the fused path stores its big matrices: f32, or f16 pairs read as f32 (half the bytes). */
export type WeightStorage = 'f32' | 'f16';

export interface FusedWeights {
  /** [L][2R in][2R out] gate matrices (rows layout: [L][2R out][2R in]), f32 or f16 pairs. */
  gate: Tensor;
  /** [L][R][R+S] as f16 pairs (f16 storage; GenWeights.half's, not released with these), else null. */
  resSkipF16: Tensor | null;
  /** Rows layout: [L][R+S out][R in], f32 or f16 pairs (owned by these), else null. */
  resSkipRows: Tensor | null;
  /** [L][2R][2R] past taps as f16 pairs (f16 storage; GenWeights.half's, not released with these), else null. */
  pastF16: Tensor | null;
  /** The conditioning biases with the fold's constant term (replaces GenWeights.condB). */
  condB: Tensor;
  storage: WeightStorage;
  rows: boolean;
  release(): void;
}

/**
 * Each of `n` row-major [rows][cols] matrices stored one after another, transposed where it lies
 * (through a copy of one matrix at a time: h512_bo16's gate matrices are 126 MB in all, one is 4 MB).
 * Returns `m`.
 */
export function transposeEach(m: Float32Array, n: number, rows: number, cols: number): Float32Array {
  const one = new Float32Array(rows * cols);
  for (let k = 0; k < n; k++) {
    const base = k * rows * cols;
    one.set(m.subarray(base, base + rows * cols));
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m[base + c * rows + r] = one[r * cols + c];
  }
  return m;
}

/** Floats as f16 pairs in u32 words (the even one in the low half), as unpack2x16float reads them. */
export function halfPairs(src: Float32Array): Uint32Array {
  const halves = new Uint16Array(src.length + (src.length % 2));
  halves.set(floatsToHalf(src));
  return new Uint32Array(halves.buffer);
}

export async function buildFusedWeights(
  engine: Engine,
  w: Weights,
  condB: Float32Array,
  storage: WeightStorage,
  /** GenWeights.half: the past taps and [res | skip] as f16 pairs, shared with the layered path (not released here). */
  half: (m: 'past' | 'resSkip') => Tensor,
  /** Rows layout: the gate and [res | skip] matrices transposed (resSkip: the host's [L][R][R+S]). */
  rows: { resSkip: () => Float32Array } | null = null,
): Promise<FusedWeights> {
  const c = w.config;
  const L = decoderLayers(c);
  const { residual: R } = c.decoder;
  const R2 = 2 * R;
  const gate = new Float32Array(L * R2 * R2);
  const bias = condB.slice();
  const x = engine.tensor([1, R, R]);
  const Wt = engine.tensor([1, 1, R, R2]);
  const y = engine.tensor([1, R, R2]);
  try {
    for (let i = 0; i < L; i++) {
      const taps = w.get(`dilatedconv_${i + 1}/W`).data; // [1,3,R,2R]: tap t is the third
      const cur = taps.subarray(2 * R * R2, 3 * R * R2);
      gate.set(cur, i * R2 * R2);
      if (i === 0) continue;
      const res = w.get(`res_${i}/W`).data; // layer i-1's residual, [R in][R out]
      const resB = w.get(`res_${i}/biases`).data;
      for (let o = 0; o < R2; o++) {
        let s = 0;
        for (let r = 0; r < R; r++) s += resB[r] * cur[r * R2 + o];
        bias[i * R2 + o] += s;
      }
      engine.write(x, res);
      engine.write(Wt, cur);
      const d = await conv1d(engine, x, Wt, null, y, { taps: 1 });
      engine.run([d]);
      gate.set(await engine.read(y), (i * R2 + R) * R2);
      destroyDispatches([d]);
    }
  } finally {
    for (const t of [x, Wt, y]) t.release();
  }
  const upload = (m: Float32Array, shape: number[], name: string) =>
    storage === 'f16' ? engine.upload(halfPairs(m), [m.length / 2], `${name}_f16`) : engine.upload(m, shape, name);
  const g = rows
    ? upload(transposeEach(gate, L, R2, R2), [L, R2, R2], 'gen/fused_gate_rows')
    : upload(gate, [L, R2, R2], 'gen/fused_gate');
  const { skip: S } = c.decoder;
  const rs = rows ? upload(transposeEach(rows.resSkip(), L, R, R + S), [L, R + S, R], 'gen/fused_res_skip_rows') : null;
  const cb = engine.upload(bias, [bias.length], 'gen/fused_cond_b');
  return {
    gate: g,
    resSkipF16: storage === 'f16' && !rows ? half('resSkip') : null,
    resSkipRows: rs,
    pastF16: storage === 'f16' ? half('past') : null,
    condB: cb,
    storage,
    rows: rows !== null,
    release: () => {
      for (const t of [g, cb, ...(rs ? [rs] : [])]) t.release();
    },
  };
}
