// The soak's short version: generation and training on one engine keep their GPU buffers, the pool
// and the process's memory flat after warm-up (`nsynth bench soak` runs the long one).
import { describe, expect, it } from 'vitest';
import { runSoak } from '../src/bench/soak.js';
import { testEngine } from './helpers.js';

describe('soak (short)', () => {
  it('buffers in use and pooled stay constant after warm-up, in generation and in training', async () => {
    const e = await testEngine();
    const r = await runSoak(e, {
      model: null,
      generateConfig: 'tiny',
      seconds: 0.5,
      trainConfig: 'tiny',
      steps: 12,
      samples: 6,
      json: true,
    });
    const gen = r.samples.filter((s) => s.phase === 'generate');
    const tr = r.samples.filter((s) => s.phase === 'train');
    expect(gen.length).toBeGreaterThanOrEqual(5);
    expect(tr.map((s) => s.at)).toEqual([2, 4, 6, 8, 10, 12]);
    for (const p of r.phases) {
      expect(p.liveBuffersRange[0], `${p.phase}: live buffers`).toBe(p.liveBuffersRange[1]);
      expect(p.pooledBuffersRange[0], `${p.phase}: pooled buffers`).toBe(p.pooledBuffersRange[1]);
      expect(p.flat, `${p.phase}: RSS grew ${p.rssGrowthMB.toFixed(0)} MB`).toBe(true);
    }
    // Everything generation held is back in the pool: nothing leaks between the phases.
    expect(tr[0].liveBuffers).toBeLessThan(gen[0].liveBuffers);
  });
});
