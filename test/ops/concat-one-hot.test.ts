// kernels/concat_one_hot.wgsl and its backward kernels/channel_slice.wgsl against the references in
// src/ops/concat-one-hot.ts.
import { describe, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import {
  concatOneHot,
  concatOneHotReference,
  channelSlice,
  channelSliceReference,
} from '../../src/ops/concat-one-hot.js';

describe('one-hot pitch concatenation', () => {
  it('one-hot pitch concatenation and its backward, the channel slice', async () => {
    const e = await testEngine();
    const r = rng(17);
    const [B, F, C, P] = [3, 4, 5, 128];
    const x = r.fill(B * F * C);
    const cls = Uint32Array.of(0, 127, 60);
    const xt = e.upload(x, [B, F, C]);
    const ct = e.upload(cls);
    const cat = e.tensor([B, F, C + P]);
    const back = e.upload(r.fill(B * F * C), [B, F, C]);
    const before = await e.read(back);
    await runAll(e, [await concatOneHot(e, xt, ct, P, cat), await channelSlice(e, cat, 0, back, true)]);
    const ref = concatOneHotReference(x, [B, F, C], cls, P);
    expectClose(await e.read(cat), ref, 0, 0, 'concat one-hot');
    expectClose(
      await e.read(back),
      channelSliceReference(ref, C + P, 0, C).map((v, i) => v + before[i]),
      1e-6,
      1e-7,
      'channel slice',
    );
    for (const t of [xt, ct, cat, back]) t.release();
  });
});
