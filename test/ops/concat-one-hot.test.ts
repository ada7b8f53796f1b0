// kernels/concat_one_hot.wgsl, its backward kernels/concat_one_hot_backward.wgsl and
// kernels/channel_slice.wgsl against the references in src/ops/concat-one-hot.ts.
import { describe, expect, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import {
  concatOneHot,
  concatOneHotBackward,
  concatOneHotBackwardReference,
  concatOneHotReference,
  channelSlice,
  channelSliceReference,
  EMBEDDING_DROPPED,
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

  it('an item marked EMBEDDING_DROPPED: zeros for its embedding, its pitch kept, no gradient to its embedding', async () => {
    const e = await testEngine();
    const r = rng(23);
    const [B, F, C, P] = [3, 4, 5, 128];
    const x = r.fill(B * F * C);
    const cls = Uint32Array.of(12, 64 + EMBEDDING_DROPPED, 127);
    const xt = e.upload(x, [B, F, C]);
    const ct = e.upload(cls);
    const cat = e.tensor([B, F, C + P]);
    const g = r.fill(B * F * (C + P));
    const gt = e.upload(g, [B, F, C + P]);
    const back = e.upload(r.fill(B * F * C), [B, F, C]);
    const before = await e.read(back);
    const fresh = e.tensor([B, F, C]);
    await runAll(e, [
      await concatOneHot(e, xt, ct, P, cat),
      await concatOneHotBackward(e, gt, ct, P, back, true),
      await concatOneHotBackward(e, gt, ct, P, fresh, false),
    ]);
    const ref = concatOneHotReference(x, [B, F, C], cls, P);
    // The dropped item: its frames are zeros but for the one at its pitch (64).
    for (let f = 0; f < F; f++) {
      const row = ref.subarray((1 * F + f) * (C + P), (1 * F + f + 1) * (C + P));
      expect(Array.from(row.subarray(0, C))).toEqual([0, 0, 0, 0, 0]);
      expect(row.reduce((a, b) => a + b, 0)).toBe(1);
      expect(row[C + 64]).toBe(1);
    }
    expectClose(await e.read(cat), ref, 0, 0, 'concat one-hot, one item dropped');
    const gradRef = concatOneHotBackwardReference(g, [B, F, C], cls, P);
    expect(gradRef.subarray(F * C, 2 * F * C).every((v) => v === 0)).toBe(true);
    expect(gradRef.subarray(0, F * C).some((v) => v !== 0)).toBe(true);
    expectClose(await e.read(fresh), gradRef, 0, 0, 'backward');
    expectClose(
      await e.read(back),
      gradRef.map((v, i) => v + before[i]),
      1e-6,
      1e-7,
      'backward, accumulated',
    );
    for (const t of [xt, ct, cat, gt, back, fresh]) t.release();
  });
});
