// kernels/upsample_nearest.wgsl against upsampleNearestReference (src/ops/upsample-nearest.ts); its
// use as avg_pool's backward is tested in avg-pool.test.ts.
import { describe, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import { upsampleNearest, upsampleNearestReference } from '../../src/ops/upsample-nearest.js';

describe('nearest-neighbour upsampling', () => {
  it('nearest-neighbour upsampling of frames to samples', async () => {
    const e = await testEngine();
    const [B, F, C] = [2, 3, 5];
    const x = rng(5).fill(B * F * C);
    const out = e.tensor([B, F * 512, C]);
    await runAll(e, [await upsampleNearest(e, e.upload(x, [B, F, C]), out, 512)]);
    expectClose(await e.read(out), upsampleNearestReference(x, [B, F, C], 512), 0, 0);
  });
});
