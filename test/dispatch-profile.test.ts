// The per-dispatch GPU profile (`--profile` of `nsynth bench train` and `bench generate`): the
// timestamps land on the right dispatches, a profiled generation sounds as an unprofiled one, and
// an adapter without timestamp queries is told so.
import { describe, expect, it } from 'vitest';
import { profileDispatches, profileTable } from '../src/bench/dispatch-profile.js';
import { runTrainBench } from '../src/bench/train.js';
import { createEngine } from '../src/gpu/engine.js';
import { destroyDispatches } from '../src/gpu/registry.js';
import { lanesSupported } from '../src/gpu/lanes.js';
import { decoderLayers, getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { modelFromWeights } from '../src/nsynth.js';
import { conv1d } from '../src/ops/conv1d.js';
import { note } from './generate-helpers.js';
import { rng, testEngine } from './helpers.js';

describe('profileDispatches', () => {
  it('times each dispatch where it ran: a convolution of 16x the rows takes longer, in list order', async () => {
    const e = await testEngine();
    if (!e.features.has('timestamp-query')) return void console.warn('skipped: adapter lacks timestamp-query');
    const r = rng(5);
    const cin = 64;
    const cout = 64;
    const rand = (n: number) => Float32Array.from({ length: n }, () => r.uniform(-1, 1));
    const W = e.upload(rand(cin * cout), [1, 1, cin, cout]);
    const small = e.upload(rand(256 * cin), [1, 256, cin]);
    const large = e.upload(rand(4096 * cin), [1, 4096, cin]);
    const ySmall = e.tensor([1, 256, cout]);
    const yLarge = e.tensor([1, 4096, cout]);
    const list = [
      await conv1d(e, small, W, null, ySmall, { taps: 1 }),
      await conv1d(e, large, W, null, yLarge, { taps: 1 }),
      await conv1d(e, small, W, null, ySmall, { taps: 1 }),
    ];
    const p = await profileDispatches(e, list, 3);
    expect(p.dispatches).toBe(3);
    expect(p.dispatchMicros).toHaveLength(3);
    const [a, b, c] = p.dispatchMicros;
    expect(b, `the large convolution (${b} us) against the small ones (${a}, ${c} us)`).toBeGreaterThan(
      3 * Math.max(a, c),
    );
    // one kernel, all three dispatches; its time is theirs
    expect(p.kernels).toHaveLength(1);
    expect(p.kernels[0].dispatches).toBe(3);
    expect(p.kernels[0].micros).toBeCloseTo(a + b + c, 6);
    expect(p.gpuMicros).toBeCloseTo(a + b + c, 6);
    expect(p.kernels[0].share).toBeCloseTo(1, 9);
    expect(p.kernels[0].workgroupsMax).toBeGreaterThan(p.kernels[0].workgroupsMin);
    // the span covers the kernels (a median of other runs: within a quarter)
    expect(p.spanMicros).toBeGreaterThan(0.75 * p.gpuMicros);
    expect(profileTable(p)).toContain(p.kernels[0].kernel);
    // more dispatches than one query set holds (2 x 2048 queries): every one timed
    const many = await profileDispatches(
      e,
      Array.from({ length: 2100 }, () => list[0]),
      1,
    );
    expect(many.dispatchMicros).toHaveLength(2100);
    expect(many.dispatchMicros.every((us) => Number.isFinite(us) && us >= 0)).toBe(true);
    expect(many.kernels[0].dispatches).toBe(2100);
    destroyDispatches(list);
    for (const t of [W, small, large, ySmall, yLarge]) t.release();
  });

  it('refuses an empty list, bad repeats, and an adapter without timestamp queries', async () => {
    const e = await testEngine();
    await expect(profileDispatches(e, [])).rejects.toThrow(/no dispatches/);
    const bare = await createEngine({ features: [] });
    try {
      const x = bare.tensor([1, 4, 4]);
      const W = bare.tensor([1, 1, 4, 4]);
      const y = bare.tensor([1, 4, 4]);
      const d = await conv1d(bare, x, W, null, y, { taps: 1 });
      await expect(profileDispatches(bare, [d])).rejects.toThrow(/has no timestamp-query feature/);
      if (e.features.has('timestamp-query'))
        await expect(profileDispatches(e, [d], 0)).rejects.toThrow(/repeats must be a positive integer/);
    } finally {
      bare.destroy();
    }
  });
});

describe('a profiled generation', () => {
  it("hands over one step's dispatches, then generates the same audio as without, on every path", async () => {
    const e = await testEngine();
    if (!e.features.has('timestamp-query')) return void console.warn('skipped: adapter lacks timestamp-query');
    const c = getConfig('tiny');
    const model = await modelFromWeights(e, initWeights(c, 48, { biasScale: 0.1 }));
    const emb = await model.encode([note(30, 1024), note(31, 1024)]);
    const L = decoderLayers(c);
    const paths = [
      ['layered', 2 * L + 2],
      ['fused', L + 2],
      ['voice-loop', 1],
      ...(lanesSupported(e) ? [['voice-lanes', 1] as const] : []),
    ] as const;
    for (const [path, perStep] of paths) {
      const plain = await model.generate(emb, { seed: 4, path });
      let dispatches = 0;
      let kernels = 0;
      const profiled = await model.generate(emb, {
        seed: 4,
        path,
        profileStep: async (step) => {
          const p = await profileDispatches(e, step, 2);
          dispatches = p.dispatches;
          kernels = p.kernels.length;
        },
      });
      expect(dispatches, `${path}: dispatches of one step`).toBe(perStep);
      expect(kernels, path).toBeGreaterThan(0);
      expect(profiled, `${path}: the audio after a profile`).toEqual(plain);
    }
    model.dispose();
  });
});

describe('nsynth bench train --profile', () => {
  it('accounts for every dispatch of the step, the convolutions among its kernels', async () => {
    const e = await testEngine();
    if (!e.features.has('timestamp-query')) return void console.warn('skipped: adapter lacks timestamp-query');
    const { rows } = await runTrainBench(e, {
      configs: ['tiny'],
      batch: 1,
      crop: 1024,
      steps: 1,
      json: false,
      profile: true,
    });
    const p = rows[0].profile!;
    expect(p.dispatches).toBe(rows[0].dispatchesPerStep);
    expect(p.kernels.reduce((n, k) => n + k.dispatches, 0)).toBe(p.dispatches);
    expect(p.kernels.some((k) => k.kernel.startsWith('conv1d'))).toBe(true);
    expect(p.kernels.reduce((s, k) => s + k.share, 0)).toBeCloseTo(1, 6);
  });
});
