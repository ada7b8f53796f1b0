// The released configuration, h512_bo16, at full size on a short input: every shape and every
// value against the reference. Short because the float64 reference needs ~60 GMAC per 1024 samples.
import { describe, it, expect } from 'vitest';
import { testEngine, relativeError, expectClose } from './helpers.js';
import { modelFromWeights } from '../src/nsynth.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { encodeReference, teacherForcedLogitsReference } from '../src/graph/reference.js';

describe('h512_bo16 at full size', () => {
  it('encoder on 2048 samples and decoder on 512 samples match the reference within 1e-4', async () => {
    const e = await testEngine();
    const w = initWeights(getConfig('h512_bo16'), 5, { biasScale: 0.05 });
    const model = await modelFromWeights(e, w);
    const audio = Float32Array.from({ length: 2048 }, (_, t) => 0.5 * Math.sin(t / 7) * Math.exp(-t / 3000));
    const emb = await model.encode(audio);
    expect(emb.shape).toEqual([4, 16]);
    const embRef = await encodeReference(w, audio, 1);
    expect(relativeError(emb.data, embRef)).toBeLessThan(1e-4);

    const short = audio.subarray(0, 512);
    const embShort = emb.data.subarray(0, 16);
    const logits = await model.teacherForcedLogits(short, embShort);
    expect(logits.shape).toEqual([512, 256]);
    const ref = await teacherForcedLogitsReference(w, short, embShort, 1);
    expect(relativeError(logits.data, ref)).toBeLessThan(1e-4);
    expectClose(logits.data, ref, 1e-3, 1e-4, 'h512 logits');
    model.dispose();
  }, 600_000);
});
