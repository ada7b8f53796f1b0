// kernels/channel_place.wgsl against channelPlaceReference (src/ops/channel-place.ts): parts placed
// side by side make a concatenation, the other channels are untouched, and channel_slice (its
// backward) takes each part back out.
import { describe, expect, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import { channelPlace, channelPlaceReference } from '../../src/ops/channel-place.js';
import { channelSlice } from '../../src/ops/concat-one-hot.js';
import type { Dispatch } from '../../src/gpu/registry.js';
import type { Tensor } from '../../src/gpu/tensor.js';

describe('channel place', () => {
  it('parts placed into their channels make the concatenation; other channels keep their values', async () => {
    const e = await testEngine();
    const r = rng(61);
    // [rows, part widths, spare channels at the end]: the baseline's latent + pitch embedding, C of 1 and 8.
    const cases: [number, number[], number][] = [
      [37, [1], 2],
      [1000, [8, 1, 8], 0],
      [8 * 16 * 8, [128, 128], 3],
      [70_000, [8, 8], 1],
    ];
    for (const [rows, widths, spare] of cases) {
      const outC = widths.reduce((a, b) => a + b, 0) + spare;
      const before = r.fill(rows * outC);
      const out = e.upload(before, [rows, outC]);
      const parts = widths.map((w) => r.fill(rows * w));
      const list: Dispatch[] = [];
      const uploaded: Tensor[] = [];
      const ref = Float64Array.from(before);
      let offset = 0;
      for (let k = 0; k < widths.length; k++) {
        const xt = e.upload(parts[k], [rows, widths[k]]);
        uploaded.push(xt);
        list.push(await channelPlace(e, xt, out, { rows, inChannels: widths[k], outChannels: outC, offset }));
        channelPlaceReference(parts[k], rows, widths[k], outC, offset, ref);
        offset += widths[k];
      }
      await runAll(e, list);
      expectClose(await e.read(out), ref, 0, 0, `rows ${rows}, parts [${widths}] of ${outC}`);
      // channel_slice reads each part back exactly.
      offset = 0;
      for (let k = 0; k < widths.length; k++) {
        const back = e.tensor([rows, widths[k]]);
        await runAll(e, [await channelSlice(e, out, offset, back, false)]);
        expectClose(await e.read(back), parts[k], 0, 0, `slice of part ${k}`);
        back.release();
        offset += widths[k];
      }
      for (const t of [out, ...uploaded]) t.release();
    }
  });

  it('the reference places into zeros without `into`', () => {
    const x = Float64Array.of(1, 2, 3, 4);
    expect([...channelPlaceReference(x, 2, 2, 5, 3)]).toEqual([0, 0, 0, 1, 2, 0, 0, 0, 3, 4]);
  });

  it('wrong shapes are refused', async () => {
    const e = await testEngine();
    const x = e.tensor([10, 3]);
    const out = e.tensor([10, 8]);
    await expect(channelPlace(e, x, out, { rows: 10, inChannels: 3, outChannels: 8, offset: 6 })).rejects.toThrow(
      /channels 6..9 outside 8/,
    );
    await expect(channelPlace(e, x, out, { rows: 10, inChannels: 4, outChannels: 8, offset: 0 })).rejects.toThrow(
      /channelPlace: x has 30 elements/,
    );
    await expect(channelPlace(e, x, out, { rows: 10, inChannels: 3, outChannels: 7, offset: 0 })).rejects.toThrow(
      /channelPlace: out has 80 elements/,
    );
    for (const t of [x, out]) t.release();
  });
});
