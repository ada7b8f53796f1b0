// kernels/sigmoid.wgsl against sigmoidReference, including inputs whose naive exp would overflow.
import { describe, expect, it } from 'vitest';
import { sigmoid, sigmoidReference } from '../../src/ops/sigmoid.js';
import { expectClose, rng, runAll, testEngine } from '../helpers.js';

describe('sigmoid', () => {
  it('matches the reference on random inputs and saturates cleanly at +-1000', async () => {
    const e = await testEngine();
    const x = rng(3).fill(70000, -12, 12);
    x[0] = 1000;
    x[1] = -1000;
    x[2] = 0;
    const y = e.tensor([x.length]);
    await runAll(e, [await sigmoid(e, e.upload(x), y)]);
    const got = await e.read(y);
    expectClose(got, sigmoidReference(x), 1e-6, 1e-7);
    expect([got[0], got[1], got[2]]).toEqual([1, 0, 0.5]);
  });
});
