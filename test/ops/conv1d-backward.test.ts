// kernels/conv1d_backward_input*.wgsl and conv1d_backward_weight*.wgsl (+ _sum) against
// conv1dBackwardReference (src/ops/conv1d-backward.ts), itself checked against finite differences
// in test/gradcheck.test.ts.
import { describe, it, expect } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import { conv1d, conv1dReference, lanesSupported, type TapMode, type TileVariant } from '../../src/ops/conv1d.js';
import {
  conv1dBackwardInput,
  conv1dBackwardWeight,
  conv1dBackwardReference,
  weightGradChunks,
  weightGradScratch,
  type ConvShape,
} from '../../src/ops/conv1d-backward.js';

// f32 GPU sums of up to a few thousand O(1) terms against float64 references.
const RTOL = 1e-4;
const ATOL = 1e-4;

describe('conv1d backward (input, weight and bias gradients)', () => {
  const cases: (ConvShape & { name: string })[] = [
    {
      name: 'causal d=2 with ReLU in and out',
      B: 2,
      T: 40,
      cin: 6,
      cout: 10,
      taps: 3,
      dilation: 2,
      mode: 'causal',
      reluIn: true,
      reluOut: true,
    },
    {
      name: 'centred d=8 (encoder)',
      B: 1,
      T: 65,
      cin: 17,
      cout: 33,
      taps: 3,
      dilation: 8,
      mode: 'centred',
      reluIn: false,
      reluOut: false,
    },
    {
      name: 'causal-shifted, Cin=1 (start conv)',
      B: 2,
      T: 50,
      cin: 1,
      cout: 16,
      taps: 3,
      dilation: 1,
      mode: 'causal-shifted',
      reluIn: false,
      reluOut: false,
    },
    {
      name: 'causal d=64 > T/2',
      B: 1,
      T: 100,
      cin: 8,
      cout: 9,
      taps: 3,
      dilation: 64,
      mode: 'causal',
      reluIn: false,
      reluOut: true,
    },
    {
      name: '1x1 wide, ReLU in',
      B: 2,
      T: 70,
      cin: 70,
      cout: 129,
      taps: 1,
      dilation: 1,
      mode: 'causal',
      reluIn: true,
      reluOut: false,
    },
    {
      name: 'long sequence: weight gradient over several time chunks',
      B: 2,
      T: 1536,
      cin: 5,
      cout: 12,
      taps: 3,
      dilation: 16,
      mode: 'causal',
      reluIn: false,
      reluOut: false,
    },
    // Channel counts divisible by 4, for the lanes kernels too (partial column tiles, batch
    // boundaries inside a time chunk, every fused option).
    {
      name: 'lanes-sized: causal d=2, ReLU in and out, 12 -> 20',
      B: 2,
      T: 300,
      cin: 12,
      cout: 20,
      taps: 3,
      dilation: 2,
      mode: 'causal',
      reluIn: true,
      reluOut: true,
    },
    {
      name: 'lanes-sized: centred d=8, 16 -> 36',
      B: 1,
      T: 130,
      cin: 16,
      cout: 36,
      taps: 3,
      dilation: 8,
      mode: 'centred',
      reluIn: false,
      reluOut: false,
    },
    {
      name: 'lanes-sized: 1x1, 68 -> 132, ReLU in',
      B: 3,
      T: 90,
      cin: 68,
      cout: 132,
      taps: 1,
      dilation: 1,
      mode: 'causal',
      reluIn: true,
      reluOut: false,
    },
    {
      name: 'lanes-sized: long sequence over several chunks, 8 -> 12',
      B: 2,
      T: 1536,
      cin: 8,
      cout: 12,
      taps: 3,
      dilation: 16,
      mode: 'causal-shifted',
      reluIn: false,
      reluOut: true,
    },
  ];
  const variants = cases.flatMap((x) => {
    const tiles: TileVariant[] = ['wide', 'narrow'];
    if (x.cin % 4 === 0 && x.cout % 4 === 0) tiles.push('lanes');
    return tiles.map((tile) => ({ ...x, tile }));
  });
  for (const s of variants) {
    it(`${s.name} (${s.tile} tile)`, async (ctx) => {
      const e = await testEngine();
      if (s.tile === 'lanes' && !lanesSupported(e)) ctx.skip('the adapter has no subgroups of 8+ lanes');
      const r = rng(s.T * 7 + s.cin);
      const x = r.fill(s.B * s.T * s.cin);
      const W = r.fill(s.taps * s.cin * s.cout, -0.5, 0.5);
      const b = r.fill(s.cout);
      const dy = r.fill(s.B * s.T * s.cout);
      const dx0 = r.fill(s.B * s.T * s.cin);
      const dW0 = r.fill(W.length);
      const xt = e.upload(x, [s.B, s.T, s.cin]);
      const Wt = e.upload(W, [1, s.taps, s.cin, s.cout]);
      const bt = e.upload(b);
      const yt = e.tensor([s.B, s.T, s.cout]);
      const dyt = e.upload(dy, [s.B, s.T, s.cout]);
      const o = {
        taps: s.taps,
        dilation: s.dilation,
        mode: s.mode as TapMode,
        reluIn: s.reluIn,
        reluOut: s.reluOut,
        tile: s.tile,
      };
      await runAll(e, [await conv1d(e, xt, Wt, bt, yt, o)]);
      const y = conv1dReference(x, [s.B, s.T, s.cin], W, b, s.cout, o);
      const ref = conv1dBackwardReference(s, x, W, y, dy);
      // dx written, then accumulated onto an existing gradient; dW accumulated, dbias written.
      const dxt = e.tensor([s.B, s.T, s.cin]);
      const dxAcc = e.upload(dx0, [s.B, s.T, s.cin]);
      const dWt = e.upload(dW0, [1, s.taps, s.cin, s.cout]);
      const dbt = e.tensor([s.cout]);
      const scratch = e.tensor([weightGradScratch(s, e)]);
      await runAll(e, [
        await conv1dBackwardInput(e, s, dyt, Wt, xt, yt, dxt, false),
        await conv1dBackwardInput(e, s, dyt, Wt, xt, yt, dxAcc, true),
        ...(await conv1dBackwardWeight(e, s, xt, dyt, yt, dWt, dbt, scratch, { W: true, bias: false })),
      ]);
      expectClose(await e.read(dxt), ref.dx, RTOL, ATOL, `${s.name}: dx`);
      expectClose(
        await e.read(dxAcc),
        ref.dx.map((v, i) => v + dx0[i]),
        RTOL,
        ATOL,
        `${s.name}: dx accumulated`,
      );
      expectClose(
        await e.read(dWt),
        ref.dW.map((v, i) => v + dW0[i]),
        RTOL,
        ATOL * 10,
        `${s.name}: dW`,
      );
      expectClose(await e.read(dbt), ref.dbias, RTOL, ATOL * 10, `${s.name}: dbias`);
      if (s.T > 1000) expect(weightGradChunks(s, e).chunks).toBeGreaterThan(1);
      for (const t of [xt, Wt, bt, yt, dyt, dxt, dxAcc, dWt, dbt, scratch]) t.release();
    });
  }
});
