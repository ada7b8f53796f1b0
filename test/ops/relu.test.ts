// kernels/relu_backward.wgsl against reluBackwardReference (src/ops/relu.ts); the forward ReLUs are
// fused into conv1d and tested there.
import { describe, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import { reluBackward, reluBackwardReference } from '../../src/ops/relu.js';

describe('ReLU backward', () => {
  it('ReLU, accumulating', async () => {
    const e = await testEngine();
    const r = rng(12);
    const x = r.fill(1000);
    const dy = r.fill(1000);
    const d0 = r.fill(1000);
    const [xt, dyt, dxt] = [e.upload(x), e.upload(dy), e.upload(d0)];
    await runAll(e, [await reluBackward(e, xt, dyt, dxt, true)]);
    const ref = reluBackwardReference(x, dy).map((v, i) => v + d0[i]);
    expectClose(await e.read(dxt), ref, 1e-6, 1e-7, 'relu backward');
    for (const t of [xt, dyt, dxt]) t.release();
  });
});
