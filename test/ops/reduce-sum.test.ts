// kernels/axpy.wgsl and kernels/reduce_sum.wgsl against axpyReference (src/ops/axpy.ts) and
// reduceSumReference (src/ops/reduce-sum.ts): one test, since each checks the other's input.
import { describe, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import { axpy, axpyReference } from '../../src/ops/axpy.js';
import { reduceSum, reduceSumReference } from '../../src/ops/reduce-sum.js';

describe('axpy and reduce_sum', () => {
  it('axpy and reduce_sum (sum, sum of squares, into slots)', async () => {
    const e = await testEngine();
    const r = rng(15);
    const x = r.fill(5000);
    const y = r.fill(5000);
    const [xt, yt] = [e.upload(x), e.upload(y)];
    const out = e.tensor([4]);
    await runAll(e, [
      await axpy(e, xt, yt, 0.5),
      await reduceSum(e, xt, out, { slot: 1, scale: 0.25 }),
      await reduceSum(e, xt, out, { slot: 3, squares: true }),
    ]);
    expectClose(await e.read(yt), axpyReference(x, y, 0.5), 1e-6, 1e-7, 'axpy');
    const o = await e.read(out);
    expectClose([o[1], o[3]], [reduceSumReference(x, 0.25), reduceSumReference(x, 1, true)], 1e-5, 1e-5, 'reduce_sum');
    for (const t of [xt, yt, out]) t.release();
  });
});
