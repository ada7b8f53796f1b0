// Mu-law (mu = 255) exactly as Magenta's utils.mu_law / inv_mu_law_numpy, with the clamp at x = 1.0.
// Host wrapper and reference for kernels/mu_law_quantize.wgsl. Bin edges and the decode table are
// computed in float64 here and shared by the GPU kernels and the references, so quantisation is
// identical everywhere (no f32 logarithm in the loop); decoding is a table look-up (the generator's
// chunks are decoded on the host).
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';

export const MU = 255;
export const NUM_CLASSES = 256;

/** edges[k] = (256^(k/128) - 1) / 255 for k = 0..128, as float32: |x| crossing edge k moves q by one. */
export const MU_LAW_EDGES: Float32Array = Float32Array.from(
  { length: 129 },
  (_, k) => ((MU + 1) ** (k / 128) - 1) / MU,
);

/** inv_mu_law of every class k = q + 128, as float32. */
export const MU_LAW_DECODE_TABLE: Float32Array = Float32Array.from({ length: NUM_CLASSES }, (_, k) =>
  muLawDecodeValue(k - 128),
);

function muLawDecodeValue(q: number): number {
  if (q === 0) return 0;
  const u = ((q + 0.5) * 2) / 256;
  return (Math.sign(u) * ((MU + 1) ** Math.abs(u) - 1)) / MU;
}

/** q in [-128, 127] for one sample, using the float32 edges the GPU uses. */
export function muLawQuantizeReference(x: number): number {
  const a = Math.abs(Math.fround(x));
  let n = 0;
  if (x >= 0) {
    for (let k = 1; k <= 128; k++) if (MU_LAW_EDGES[k] <= a) n++;
    return Math.min(n, 127);
  }
  for (let k = 1; k <= 128; k++) if (MU_LAW_EDGES[k] < a) n++;
  return Math.max(-(n + 1), -128);
}

/** Magenta's formula evaluated in float64, for comparison: floor(128 sign(x) ln(1+255|x|)/ln 256), clamped. */
export function muLawFormula(x: number): number {
  const y = (Math.sign(x) * Math.log1p(MU * Math.abs(x))) / Math.log1p(MU);
  return Math.max(-128, Math.min(127, Math.floor(128 * y)));
}

export function muLawDecodeReference(classes: ArrayLike<number>): Float32Array {
  return Float32Array.from(classes, (k) => MU_LAW_DECODE_TABLE[Math.min(k, 255)]);
}

/** audio [n] -> scaled q/128 [n] (the network input) and classes q+128 [n] (u32). */
export async function muLawQuantize(
  engine: Engine,
  audio: Tensor,
  edges: Tensor,
  scaled: Tensor,
  classes: Tensor,
): Promise<Dispatch> {
  const n = audio.numel;
  expectNumel('muLawQuantize', 'edges', edges, 129);
  expectNumel('muLawQuantize', 'scaled', scaled, n);
  expectNumel('muLawQuantize', 'classes', classes, n);
  const k = await engine.kernel('mu_law_quantize');
  return k.prepare(
    { params: { n }, audio: audio.binding, edges: edges.binding, scaled: scaled.binding, classes: classes.binding },
    [grid1d(n, 256)],
  );
}

export function muLawQuantizeArray(audio: Arr): { scaled: Float32Array; classes: Uint32Array } {
  const scaled = new Float32Array(audio.length);
  const classes = new Uint32Array(audio.length);
  for (let i = 0; i < audio.length; i++) {
    const q = muLawQuantizeReference(audio[i]);
    scaled[i] = q / 128;
    classes[i] = q + 128;
  }
  return { scaled, classes };
}
