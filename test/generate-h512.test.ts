// h512_bo16 at full size: the fast generator's per-step logits under teacher forcing equal the
// full-sequence decoder's (itself tested against the reference) over 512 steps, in f32 storage.
import { describe, it } from 'vitest';
import { testEngine, expectClose, relativeError } from './helpers.js';
import { modelFromWeights } from '../src/nsynth.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { muLawQuantizeArray } from '../src/ops/mu-law.js';
import { expect } from 'vitest';

describe('h512_bo16 fast generation', () => {
  it('teacher-forced step logits equal the full-sequence decoder within 1e-4', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('h512_bo16'), 6, { biasScale: 0.05 }));
    const T = 512;
    const audio = Float32Array.from({ length: T }, (_, t) => 0.4 * Math.sin(t / 5) + 0.2 * Math.sin(t / 17));
    const emb = { data: Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)), shape: [1, 16] };
    const full = await model.teacherForcedLogits(audio, emb);
    const got = new Float32Array(T * 256);
    for await (const c of model.stream(emb, {
      teacher: [muLawQuantizeArray(audio).classes],
      recordLogits: true,
      weightStorage: 'f32',
    }))
      got.set(c.logits![0], c.start * 256);
    expect(relativeError(got, full.data)).toBeLessThan(1e-5);
    expectClose(got, full.data, 1e-4, 1e-4, 'h512 step logits');
    model.dispose();
  }, 600_000);
});
