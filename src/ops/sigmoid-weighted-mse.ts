// Host wrappers and references for the spectrogram baseline's output and loss:
// kernels/sigmoid_weighted_mse.wgsl (prediction = sigmoid(z) and chunked partial sums of the
// weighted squared error, added by kernels/reduce_sum.wgsl) and sigmoid_weighted_mse_backward.wgsl.
// z and target are [B, F, T, 1]: F frequency rows, T time columns; the weights are one per frequency.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';
import { reduceSum } from './reduce-sum.js';

/** Chunks of the partial sums: enough workgroups to fill a GPU, few enough for reduce_sum's single workgroup. */
const MAX_PARTS = 1024;

function parts(n: number): { parts: number; chunk: number } {
  const chunk = Math.ceil(Math.ceil(n / MAX_PARTS) / 256) * 256; // whole workgroup strides
  return { parts: Math.max(1, Math.ceil(n / chunk)), chunk };
}

/**
 * Magenta's frequency weights: linspace(coeff -> 1) over the bins below cutoffHz (bin f is at
 * f * sampleRate / nFft Hz), 1 above. Defaults: 16 kHz, nFft = 2F (the Nyquist bin dropped),
 * coeff 10, cutoff 4000 Hz; for F = 512 bins 0..255 get linspace(10, 1, 256).
 */
export function frequencyWeights(
  F: number,
  o: { sampleRate?: number; nFft?: number; coeff?: number; cutoffHz?: number } = {},
): Float32Array {
  const sampleRate = o.sampleRate ?? 16000;
  const nFft = o.nFft ?? 2 * F;
  const coeff = o.coeff ?? 10;
  const cutoffHz = o.cutoffHz ?? 4000;
  const w = new Float32Array(F).fill(1);
  // Bins strictly below the cutoff, compared as f * sampleRate < cutoff * nFft so no rounding moves the edge.
  let below = 0;
  while (below < F && below * sampleRate < cutoffHz * nFft) below++;
  // numpy's linspace(coeff, 1, below): both ends included; a single point is the start.
  for (let f = 0; f < below; f++) w[f] = below === 1 ? coeff : coeff + ((1 - coeff) * f) / (below - 1);
  return w;
}

/** Floats of scratch sigmoidWeightedMse needs for n = B*F*T elements (one partial sum per chunk). */
export function sigmoidWeightedMseScratch(n: number): number {
  return parts(n).parts;
}

function checkShapes(op: string, z: Tensor, target: Tensor, weights: Tensor, F: number, T: number): number {
  if (!Number.isInteger(F) || F < 1 || !Number.isInteger(T) || T < 1)
    throw new Error(`${op}: F ${F} and T ${T} must be positive integers`);
  const n = z.numel;
  if (n < 1 || n % (F * T) !== 0)
    throw new Error(`${op}: z has ${n} elements (shape [${z.shape}]), not a whole number of [F ${F}, T ${T}] images`);
  expectNumel(op, 'target', target, n);
  expectNumel(op, 'weights', weights, F);
  return n;
}

/**
 * Writes sigmoid(z) to prediction and loss = mean over all elements of w[f] * (target - sigmoid(z))^2
 * to out[slot]. Two dispatches: the chunked partial sums into scratch, then reduce_sum.
 */
export async function sigmoidWeightedMse(
  engine: Engine,
  z: Tensor,
  target: Tensor,
  weights: Tensor,
  prediction: Tensor,
  out: Tensor,
  scratch: Tensor,
  o: { F: number; T: number; slot?: number },
): Promise<Dispatch[]> {
  const op = 'sigmoidWeightedMse';
  const n = checkShapes(op, z, target, weights, o.F, o.T);
  expectNumel(op, 'prediction', prediction, n);
  const slot = o.slot ?? 0;
  if (!Number.isInteger(slot) || slot < 0 || slot >= out.numel)
    throw new Error(`${op}: slot ${slot} outside an output of ${out.numel} values`);
  const p = parts(n);
  if (scratch.numel < p.parts) throw new Error(`${op}: scratch holds ${scratch.numel} floats, needs ${p.parts}`);
  const k = await engine.kernel('sigmoid_weighted_mse');
  // reduce_sum adds every element it is given, so it sees only the partial sums of this call.
  const partials = scratch.numel === p.parts ? scratch : scratch.view(0, [p.parts]);
  return [
    k.prepare(
      {
        params: { n, F: o.F, T: o.T, chunk: p.chunk },
        z: z.binding,
        targets: target.binding,
        weights: weights.binding,
        prediction: prediction.binding,
        part: scratch.binding,
      },
      [p.parts],
    ),
    await reduceSum(engine, partials, out, { scale: 1 / n, slot }),
  ];
}

/** dz (+)= scale * d(loss)/dz (scale multiplies the whole gradient, e.g. 1 for the loss as defined). */
export async function sigmoidWeightedMseBackward(
  engine: Engine,
  z: Tensor,
  target: Tensor,
  weights: Tensor,
  dz: Tensor,
  o: { F: number; T: number; scale?: number; accumulate: boolean },
): Promise<Dispatch> {
  const op = 'sigmoidWeightedMseBackward';
  const n = checkShapes(op, z, target, weights, o.F, o.T);
  expectNumel(op, 'dz', dz, n);
  const k = await engine.kernel('sigmoid_weighted_mse_backward');
  return k.prepare(
    {
      params: { n, F: o.F, T: o.T, coef: (2 * (o.scale ?? 1)) / n, accumulate: o.accumulate ? 1 : 0 },
      z: z.binding,
      targets: target.binding,
      weights: weights.binding,
      dz: dz.binding,
    },
    [grid1d(n, 256)],
  );
}

function sigmoid(v: number): number {
  const e = Math.exp(-Math.abs(v));
  return v >= 0 ? 1 / (1 + e) : e / (1 + e);
}

export function sigmoidWeightedMseReference(
  z: Arr,
  target: Arr,
  weights: Arr,
  F: number,
  T: number,
): { loss: number; prediction: Float64Array } {
  const prediction = Float64Array.from(z, sigmoid);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += weights[Math.floor(i / T) % F] * (target[i] - prediction[i]) ** 2;
  return { loss: s / z.length, prediction };
}

export function sigmoidWeightedMseBackwardReference(
  z: Arr,
  target: Arr,
  weights: Arr,
  F: number,
  T: number,
): Float64Array {
  const n = z.length;
  return Float64Array.from(z, (v, i) => {
    const e = Math.exp(-Math.abs(v));
    const p = sigmoid(v);
    return ((2 / n) * weights[Math.floor(i / T) % F] * (p - target[i]) * e) / (1 + e) ** 2;
  });
}
