// kernels/sigmoid_weighted_mse.wgsl (+ reduce_sum) and sigmoid_weighted_mse_backward.wgsl against the
// references in src/ops/sigmoid-weighted-mse.ts; Magenta's frequency weights; the backward reference
// against central finite differences of the loss.
import { describe, expect, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import {
  frequencyWeights,
  sigmoidWeightedMse,
  sigmoidWeightedMseBackward,
  sigmoidWeightedMseBackwardReference,
  sigmoidWeightedMseReference,
  sigmoidWeightedMseScratch,
} from '../../src/ops/sigmoid-weighted-mse.js';
import type { Rng } from '../../src/util/rng.js';

/** [B, F, T]: tiny, one partial chunk, many chunks (the baseline's 512 frequency rows). */
const SHAPES: [number, number, number][] = [
  [1, 4, 3],
  [2, 64, 33],
  [4, 512, 64],
];

/** Logits with saturated entries (exp(|z|) overflows f32 past 88) and targets in [0, 1]. */
function inputs(r: Rng, n: number): { z: Float32Array; target: Float32Array } {
  const z = r.fill(n, -8, 8);
  const extremes = [100, -100, 1e4, -1e4, 88.8, -88.8];
  for (let k = 0; k < extremes.length && k < n; k++) z[(k * 7919) % n] = extremes[k];
  return { z, target: r.fill(n, 0, 1) };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

describe('sigmoid output with the frequency-weighted MSE', () => {
  it("Magenta's frequency weights", () => {
    const w = frequencyWeights(512, { sampleRate: 16000, nFft: 1024, coeff: 10, cutoffHz: 4000 });
    expect(w.length).toBe(512);
    expect(w[0]).toBe(10);
    expect(w[255]).toBe(1);
    expect(w[1]).toBeCloseTo(10 - 9 / 255, 6);
    expect(w[128]).toBeCloseTo(10 - (9 * 128) / 255, 5);
    for (let f = 1; f < 256; f++) expect(w[f]).toBeLessThan(w[f - 1]);
    expect(w.subarray(255).every((v) => v === 1)).toBe(true);
    expect(frequencyWeights(512)).toEqual(w); // the defaults are that setting
    // At 8 kHz all 512 bins lie below 4 kHz; a cutoff at 0 Hz weights nothing; a single bin below takes coeff.
    const w8 = frequencyWeights(512, { sampleRate: 8000, nFft: 1024 });
    expect([w8[0], w8[511]]).toEqual([10, 1]);
    expect(w8[510]).toBeGreaterThan(1);
    expect(frequencyWeights(16, { cutoffHz: 0 }).every((v) => v === 1)).toBe(true);
    expect(frequencyWeights(16, { cutoffHz: 1, coeff: 5 })[0]).toBe(5);
  });

  it('prediction and loss against the reference, into a slot, saturated logits finite', async () => {
    const e = await testEngine();
    const r = rng(41);
    for (const [B, F, T] of SHAPES) {
      const n = B * F * T;
      const { z, target } = inputs(r, n);
      const w = frequencyWeights(F, { nFft: 2 * F, sampleRate: 16000, cutoffHz: 4000 });
      const [zt, tt, wt] = [e.upload(z, [B, F, T, 1]), e.upload(target, [B, F, T, 1]), e.upload(w)];
      const pred = e.tensor([B, F, T, 1]);
      const out = e.upload(Float32Array.of(-1, -1, -1, -1));
      const scratch = e.tensor([sigmoidWeightedMseScratch(n)]);
      await runAll(e, await sigmoidWeightedMse(e, zt, tt, wt, pred, out, scratch, { F, T, slot: 2 }));
      const ref = sigmoidWeightedMseReference(z, target, w, F, T);
      const what = `[${B}, ${F}, ${T}]`;
      const got = await e.read(pred);
      expect(got.every(Number.isFinite)).toBe(true);
      expectClose(got, ref.prediction, 1e-6, 1e-7, `prediction ${what}`);
      const o = await e.read(out);
      expectClose(o, [-1, -1, ref.loss, -1], 1e-5, 0, `loss ${what}`);
      for (const t of [zt, tt, wt, pred, out, scratch]) t.release();
    }
  });

  it('backward against the reference, scaled, writing and accumulating', async () => {
    const e = await testEngine();
    const r = rng(42);
    for (const [B, F, T] of SHAPES) {
      const n = B * F * T;
      const { z, target } = inputs(r, n);
      const w = frequencyWeights(F);
      const [zt, tt, wt] = [e.upload(z, [B, F, T, 1]), e.upload(target, [B, F, T, 1]), e.upload(w)];
      const ref = sigmoidWeightedMseBackwardReference(z, target, w, F, T);
      const size = maxAbs(ref);
      for (const [scale, accumulate] of [
        [undefined, false],
        [3, true],
      ] as const) {
        const s = scale ?? 1;
        const d0 = r.fill(n).map((v) => (v * s * size) / 4); // of the gradient's size
        const dz = accumulate ? e.upload(d0, [B, F, T, 1]) : e.tensor([B, F, T, 1]);
        await runAll(e, [await sigmoidWeightedMseBackward(e, zt, tt, wt, dz, { F, T, scale, accumulate })]);
        const want = ref.map((v, i) => s * v + (accumulate ? d0[i] : 0));
        const got = await e.read(dz);
        expect(got.every(Number.isFinite)).toBe(true);
        // The gradient scales as 1/n: the absolute tolerance is relative to its largest entry.
        expectClose(got, want, 1e-5, 1e-6 * maxAbs(want), `dz [${B}, ${F}, ${T}], scale ${s}`);
        dz.release();
      }
      for (const t of [zt, tt, wt]) t.release();
    }
  });

  it('the backward reference is the derivative of the loss (central differences, float64)', () => {
    const r = rng(43);
    const [B, F, T] = [2, 5, 3];
    const n = B * F * T;
    const z = Float64Array.from(r.fill(n, -4, 4));
    const target = Float64Array.from(r.fill(n, 0, 1));
    const w = Float64Array.from(frequencyWeights(F, { nFft: 8, sampleRate: 16, cutoffHz: 5, coeff: 3 }));
    expect(w[0]).toBe(3); // the weights take part: bins 0..2 below the cutoff
    const h = 1e-6;
    const fd = Float64Array.from(z, (v, i) => {
      z[i] = v + h;
      const up = sigmoidWeightedMseReference(z, target, w, F, T).loss;
      z[i] = v - h;
      const down = sigmoidWeightedMseReference(z, target, w, F, T).loss;
      z[i] = v;
      return (up - down) / (2 * h);
    });
    expectClose(sigmoidWeightedMseBackwardReference(z, target, w, F, T), fd, 1e-6, 1e-10);
  });

  it('wrong shapes are refused with the name of the tensor', async () => {
    const e = await testEngine();
    const z = e.tensor([2, 8, 3, 1]);
    const w = e.tensor([8]);
    const out = e.tensor([1]);
    const scratch = e.tensor([sigmoidWeightedMseScratch(48)]);
    await expect(sigmoidWeightedMse(e, z, e.tensor([47]), w, z, out, scratch, { F: 8, T: 3 })).rejects.toThrow(
      /sigmoidWeightedMse: target has 47 elements/,
    );
    await expect(
      sigmoidWeightedMse(e, z, z, e.tensor([4]), e.tensor([48]), out, scratch, { F: 8, T: 3 }),
    ).rejects.toThrow(/weights has 4 elements/);
    await expect(sigmoidWeightedMse(e, z, z, w, e.tensor([48]), out, scratch, { F: 8, T: 3, slot: 1 })).rejects.toThrow(
      /slot 1 outside/,
    );
    await expect(
      sigmoidWeightedMseBackward(e, z, z, w, e.tensor([48]), { F: 5, T: 3, accumulate: false }),
    ).rejects.toThrow(/not a whole number of \[F 5, T 3\] images/);
  });
});
