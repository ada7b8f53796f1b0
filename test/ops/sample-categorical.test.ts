// GPU categorical sampling: the RNG is bit-identical to the TypeScript mirror, class frequencies
// match the softmax (chi-square), temperature 0 is argmax and temperature sharpens.
import { describe, it, expect } from 'vitest';
import { runAll, rng } from '../helpers.js';
import { harnessEngine, softmaxSample } from '../kernels/softmax-sample.js';
import { uniform01, sampleCategorical, softmax } from '../../src/ops/sample-categorical.js';

let harness: ReturnType<typeof harnessEngine> | null = null;

async function draw(logits: Float32Array, n: number, temperature: number, seed = 1): Promise<Uint32Array> {
  harness ??= harnessEngine();
  const e = await harness;
  const lt = e.upload(logits, [1, 256]);
  const out = e.tensor([n], 'u32');
  await runAll(e, [await softmaxSample(e, lt, out, { seed, temperature, broadcast: true, stepStep: 1 })]);
  const got = await e.read(out, 'u32');
  lt.release();
  out.release();
  return got;
}

/** Pearson chi-square over classes with expected count >= 5 (the rest pooled). */
function chiSquare(counts: Uint32Array | number[], p: Float64Array, n: number): { stat: number; dof: number } {
  let stat = 0;
  let dof = -1;
  let restObs = 0;
  let restExp = 0;
  for (let k = 0; k < p.length; k++) {
    const ex = p[k] * n;
    if (ex >= 5) {
      stat += (counts[k] - ex) ** 2 / ex;
      dof++;
    } else {
      restObs += counts[k];
      restExp += ex;
    }
  }
  if (restExp > 0) {
    stat += (restObs - restExp) ** 2 / Math.max(restExp, 1e-9);
    dof++;
  }
  return { stat, dof };
}

describe('GPU sampling', () => {
  it('matches the TypeScript sampler draw for draw', async () => {
    const r = rng(5);
    const logits = r.fill(256, -3, 3);
    const got = await draw(logits, 2000, 1, 9);
    let same = 0;
    for (let i = 0; i < got.length; i++) if (got[i] === sampleCategorical(logits, 1, uniform01(9, 0, i))) same++;
    // f32 (GPU) and f64 (host) CDFs can only disagree when u falls within rounding of a boundary
    expect(same).toBeGreaterThanOrEqual(got.length - 2);
  });

  it('class frequencies follow the softmax (chi-square, p > 0.001)', async () => {
    const r = rng(6);
    const logits = Float32Array.from({ length: 256 }, (_, k) => -((k - 100) ** 2) / 200 + r.uniform(-0.5, 0.5));
    const n = 40000;
    for (const temperature of [1, 0.7]) {
      const got = await draw(logits, n, temperature, 11);
      const counts = new Uint32Array(256);
      for (const k of got) counts[k]++;
      const { stat, dof } = chiSquare(counts, softmax(logits, temperature), n);
      // chi-square critical value at p = 0.001: dof + 3.09 sqrt(2 dof) + ... (Wilson-Hilferty)
      const z = 3.09;
      const crit = dof * (1 - 2 / (9 * dof) + z * Math.sqrt(2 / (9 * dof))) ** 3;
      expect(stat, `T=${temperature}: chi2 ${stat.toFixed(1)} on ${dof} dof, critical ${crit.toFixed(1)}`).toBeLessThan(
        crit,
      );
    }
  });

  it('temperature 0 is argmax; a low temperature concentrates the draws', async () => {
    const logits = rng(7).fill(256, -2, 2);
    let best = 0;
    for (let k = 1; k < 256; k++) if (logits[k] > logits[best]) best = k;
    const a = await draw(logits, 500, 0);
    expect(new Set(a)).toEqual(new Set([best]));
    const n = 2000;
    const pBest = softmax(logits, 0.05)[best];
    expect(pBest).toBeGreaterThan(softmax(logits, 1)[best] * 5);
    const cold = await draw(logits, n, 0.05);
    const hits = cold.filter((k) => k === best).length;
    expect(Math.abs(hits - n * pBest)).toBeLessThan(4 * Math.sqrt(n * pBest * (1 - pBest)) + 1);
  });

  it('the RNG mirror is uniform and distinct per voice and step', () => {
    const xs = Array.from({ length: 10000 }, (_, i) => uniform01(3, i % 7, i));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(uniform01(3, 0, 5)).not.toBe(uniform01(3, 1, 5));
    expect(uniform01(3, 0, 5)).not.toBe(uniform01(4, 0, 5));
  });
});
