// Shared by the generation tests: seeded notes, chunk collection, and a draw-by-draw comparison of
// two samplers that allows a part only at a near-tie of the CDF.
import { expect } from 'vitest';
import type { AudioChunk } from '../src/generate/types.js';
import { sampleCategorical, uniform01 } from '../src/ops/sample-categorical.js';
import { rng } from './helpers.js';

export function note(seed: number, n: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from(
    { length: n },
    (_, t) => 0.5 * Math.sin(t / (4 + seed)) * Math.exp(-t / 3000) + 0.05 * r.uniform(-1, 1),
  );
}

/**
 * Two samplers fed the same softmax and the same RNG draw the same classes; they may only part
 * where the draw sits on a CDF boundary within float rounding, which re-sampling the logits of
 * that step with the draw nudged by 1e-5 shows.
 */
export function expectSameDraws(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  logitsA: Float32Array,
  seed: number,
  voice: number,
  steps: number,
): void {
  let t = 0;
  while (t < steps && a[t] === b[t]) t++;
  if (t === steps) return;
  const row = logitsA.subarray(t * 256, (t + 1) * 256);
  const u = uniform01(seed, voice, t);
  const near = [u * (1 - 1e-5), u * (1 + 1e-5)].map((x) => sampleCategorical(row, 1, x));
  expect(near[0], `voice ${voice} parted at step ${t} without a near-tie`).not.toBe(near[1]);
}

export async function collect(it: AsyncIterable<AudioChunk>): Promise<AudioChunk[]> {
  const out: AudioChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}
