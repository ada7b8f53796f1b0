// Limits before allocation: the engine's GPU memory budget (pool refusals, generation split into
// groups or refused up front, training plans refused and freed) and the CLI's host-memory checks.
import { describe, it, expect } from 'vitest';
import { testEngine } from './helpers.js';
import { nsynth } from './cli-run.js';
import { parseByteSize } from '../src/gpu/engine.js';
import { MemoryBudgetError } from '../src/gpu/tensor.js';
import { modelFromWeights } from '../src/nsynth.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { voiceBytes } from '../src/generate/instance.js';
import { TrainPlan } from '../src/train/train-plan.js';
import { ParamLayout } from '../src/train/params.js';
import { note } from './generate-helpers.js';
import type { Engine } from '../src/gpu/engine.js';

/** Runs `f` with the engine's budget set to what it holds now plus `spare` bytes. */
async function withSpare<T>(e: Engine, spare: number, f: () => Promise<T>): Promise<T> {
  const saved = e.pool.budget;
  e.pool.trim();
  e.pool.budget = e.pool.account.used + spare;
  try {
    return await f();
  } finally {
    e.pool.budget = saved;
  }
}

describe('the GPU memory budget', () => {
  it('drops idle buffers before refusing, and refuses with the numbers before allocating', async () => {
    const e = await testEngine();
    await withSpare(e, 2 ** 20, async () => {
      const a = e.tensor([600 * 256]); // 600 KiB
      a.release(); // idle in the pool
      const b = e.tensor([700 * 256]); // fits once the idle buffer is dropped
      expect(e.pool.stats().pooledBytes).toBe(0);
      const before = e.pool.stats();
      let err: unknown;
      try {
        e.tensor([700 * 256]);
      } catch (x) {
        err = x;
      }
      expect(err).toBeInstanceOf(MemoryBudgetError);
      expect((err as Error).message).toMatch(/\+ 700\.0 KiB requested/);
      expect((err as Error).message).toMatch(/budget of [\d.]+ MiB/);
      expect(e.pool.stats()).toEqual(before);
      b.release();
    });
  });

  it('splits a batch into groups that fit, with the same audio; a stream that cannot fit is refused up front', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 46, { biasScale: 0.1 }));
    const emb = await model.encode([note(10, 1024), note(11, 1024), note(12, 1024), note(13, 1024), note(14, 1024)]);
    const whole = await model.generate(emb, { seed: 9, path: 'layered' });
    const per = voiceBytes(model.config, 1024 / model.config.hop);
    // room for two voices and change (small buffers are rounded up to 256 bytes)
    const grouped = await withSpare(e, 2 * per + per / 2, () => model.generate(emb, { seed: 9, path: 'layered' }));
    expect(grouped).toEqual(whole);
    await withSpare(e, 2 * per + per / 2, async () => {
      const live = e.pool.stats().live;
      const it = model.stream(emb, { seed: 9, path: 'layered' });
      await expect(it.next()).rejects.toThrow(/5 voices of 0\.06 s of tiny need .* at most 2 voices at once/);
      expect(e.pool.stats().live).toBe(live);
    });
    model.dispose();
  });

  it('a training batch over the budget is refused with a hint, and frees what it took', async () => {
    const e = await testEngine();
    const c = getConfig('tiny');
    const params = new ParamLayout(c).pack(initWeights(c, 1));
    await withSpare(e, 8 * 2 ** 20, async () => {
      const live = e.pool.stats().live;
      await expect(TrainPlan.build(e, c, 8, 4096, { params })).rejects.toThrow(
        /training batch of 8 x 4096 samples of tiny does not fit the GPU memory budget .*smaller --batch or --crop/,
      );
      expect(e.pool.stats().live).toBe(live);
    });
  });

  it('NSYNTH_GPU_MEMORY takes sizes with units and refuses nonsense', () => {
    expect(parseByteSize('8G')).toBe(8 * 2 ** 30);
    expect(parseByteSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseByteSize('1.5g')).toBe(1.5 * 2 ** 30);
    expect(parseByteSize('2000000')).toBe(2000000);
    for (const bad of ['', 'lots', '-1G', '1K', 'NaN', '1e400'])
      expect(() => parseByteSize(bad)).toThrow(/NSYNTH_GPU_MEMORY=.*at least 1M/);
  });
});

describe('the CLI checks host memory before work', () => {
  it('generate refuses an hour in 4,096 voices naming the size; a bad NSYNTH_GPU_MEMORY is named', async () => {
    const wav = '../shared/data/nsynth/guitar_acoustic_010-060-127.wav';
    const r = await nsynth([
      'generate',
      '--model',
      'random:tiny',
      '--input',
      wav,
      '--batch',
      '4096',
      '--seconds',
      '3600',
      '--out',
      '/tmp/nsynth-limits-never.wav',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/4096 voices of 57600000 samples would take 1757\.\d+ GiB of memory/);
    const bad = await nsynth(['generate', '--model', 'random:tiny', '--input', wav, '--out', '/tmp/x.wav'], {
      env: { ...process.env, NSYNTH_GPU_MEMORY: 'plenty' },
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/NSYNTH_GPU_MEMORY="plenty"/);
  });
});
