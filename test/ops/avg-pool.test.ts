// kernels/avg_pool.wgsl against avgPoolReference (src/ops/avg-pool.ts), and as the adjoint of
// upsample_nearest.
import { describe, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import { avgPool, avgPoolReference } from '../../src/ops/avg-pool.js';
import { upsampleNearest, upsampleNearestReference } from '../../src/ops/upsample-nearest.js';

describe('average pooling', () => {
  it('average pooling over 512 samples', async () => {
    const e = await testEngine();
    const [B, T, C] = [2, 1536, 16];
    const x = rng(4).fill(B * T * C);
    const out = e.tensor([B, T / 512, C]);
    await runAll(e, [await avgPool(e, e.upload(x, [B, T, C]), out, 512)]);
    expectClose(await e.read(out), avgPoolReference(x, [B, T, C], 512), 1e-5, 1e-6);
  });

  it("pooling and upsampling are each other's adjoints (scaled)", async () => {
    const e = await testEngine();
    const r = rng(13);
    const [B, F, C, win] = [2, 3, 5, 16];
    const dEmb = r.fill(B * F * C);
    const dZ = r.fill(B * F * win * C);
    const a = e.upload(dEmb, [B, F, C]);
    const b = e.upload(dZ, [B, F * win, C]);
    const up = e.tensor([B, F * win, C]);
    const sum = e.tensor([B, F, C]);
    await runAll(e, [await upsampleNearest(e, a, up, win, 1 / win), await avgPool(e, b, sum, win, 1)]);
    expectClose(
      await e.read(up),
      upsampleNearestReference(dEmb, [B, F, C], win, 1 / win),
      1e-6,
      1e-7,
      'avg-pool backward',
    );
    expectClose(
      await e.read(sum),
      avgPoolReference(dZ, [B, F * win, C], win, 1),
      1e-5,
      1e-6,
      'upsample backward (frame sum)',
    );
    for (const t of [a, b, up, sum]) t.release();
  });
});
