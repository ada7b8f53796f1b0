// Shared by the generation tests: seeded notes, chunk collection, and a draw-by-draw comparison of
// two samplers that allows a part only at a near-tie of the CDF.
import { expect } from 'vitest';
import type { AudioChunk } from '../src/generate/types.js';
import type { Engine } from '../src/gpu/engine.js';
import { modelFromWeights } from '../src/nsynth.js';
import { getConfig, type ModelConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { muLawQuantizeArray } from '../src/ops/mu-law.js';
import { FUSED_SHAPES } from '../src/generate/tuning.js';
import type { FusedShape } from '../src/ops/gen-step.js';
import { sampleCategorical, uniform01 } from '../src/ops/sample-categorical.js';
import { expectClose, rng } from './helpers.js';

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

/**
 * A seeded random model of `config` and `voices` notes of T samples (a multiple of the hop), teacher-
 * forced through the fast generator once per options object in `runs` (the model, the notes and the
 * decoder's reference logits are made once for all of them).
 */
export async function teacherForcedRun(
  e: Engine,
  config: string | ModelConfig,
  seed: number,
  runs: Record<string, unknown>[],
  T: number,
  voices = 3,
) {
  const c = typeof config === 'string' ? getConfig(config) : config;
  const model = await modelFromWeights(e, initWeights(c, seed, { biasScale: 0.1 }));
  const pitch = c.pitchConditioning ? { pitch: 60 } : {};
  const notes = Array.from({ length: voices }, (_, v) => note(seed + v, T));
  const emb = await model.encode(notes);
  const full = await model.teacherForcedLogits(notes, emb, pitch);
  const teacher = notes.map((n) => muLawQuantizeArray(n).classes);
  const results: AudioChunk[][] = [];
  for (const o of runs)
    results.push(await collect(model.stream(emb, { teacher, recordLogits: true, chunkSize: 512, ...pitch, ...o })));
  model.dispose();
  return { results, full: full.data, T, voices };
}

/** Run k's step logits equal the decoder's within `tol` for every voice; returns the largest difference. */
export function compareTeacherForced(r: Awaited<ReturnType<typeof teacherForcedRun>>, k: number, tol: number): number {
  let worst = 0;
  for (let b = 0; b < r.voices; b++) {
    const got = new Float32Array(r.T * 256);
    for (const c of r.results[k]) got.set(c.logits![b], c.start * 256);
    const want = r.full.subarray(b * r.T * 256, (b + 1) * r.T * 256);
    expectClose(got, want, tol, tol, `run ${k}, voice ${b} logits`);
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  }
  return worst;
}

/**
 * The fused path in the given workgroup shapes (tiny, f32 weights, 2-3 voices: a partial voice
 * tile) within 1e-4 of the decoder, and its f16 kernels within 2e-2.
 */
export async function everyShapeMatches(
  e: Engine,
  shapes: FusedShape[] = FUSED_SHAPES,
  voices = 3,
  T = 1024,
  /** Also run the default shape in f16 storage. */
  f16 = true,
): Promise<void> {
  const runs = shapes.map((fusedShape) => ({ path: 'fused', fusedShape, weightStorage: 'f32' }));
  const half = f16 ? [{ path: 'fused', weightStorage: 'f16' }] : [];
  const r = await teacherForcedRun(e, 'tiny', 51, [...runs, ...half], T, voices);
  runs.forEach((_, k) => {
    compareTeacherForced(r, k, 1e-4);
  });
  // f16 storage rounds the weights to 11 significant bits
  if (f16) compareTeacherForced(r, runs.length, 2e-2);
}
