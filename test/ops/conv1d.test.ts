// kernels/conv1d.wgsl, conv1d_narrow.wgsl and conv1d_lanes.wgsl against conv1dReference (src/ops/conv1d.ts).
import { describe, it, expect } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import { conv1d, conv1dReference, lanesSupported, type TapMode, type TileVariant } from '../../src/ops/conv1d.js';

// f32 GPU sums against float64 references: reductions of up to ~1.5k terms of O(1) values.
const RTOL = 1e-5;
const ATOL = 1e-5;

describe('conv1d (dilated K-tap conv and 1x1 matmul)', () => {
  const cases: {
    name: string;
    B: number;
    T: number;
    cin: number;
    cout: number;
    taps: number;
    d: number;
    mode: TapMode;
  }[] = [
    { name: 'causal d=1', B: 1, T: 37, cin: 5, cout: 7, taps: 3, d: 1, mode: 'causal' },
    { name: 'causal d=4, batch 2', B: 2, T: 70, cin: 19, cout: 66, taps: 3, d: 4, mode: 'causal' },
    { name: 'causal d=64 > T/2', B: 1, T: 100, cin: 8, cout: 9, taps: 3, d: 64, mode: 'causal' },
    { name: 'centred d=8', B: 2, T: 65, cin: 17, cout: 33, taps: 3, d: 8, mode: 'centred' },
    { name: 'centred d=1, Cin=1 (start conv)', B: 3, T: 50, cin: 1, cout: 12, taps: 3, d: 1, mode: 'centred' },
    {
      name: 'causal-shifted (shift_right + causal)',
      B: 2,
      T: 40,
      cin: 1,
      cout: 16,
      taps: 3,
      d: 1,
      mode: 'causal-shifted',
    },
    { name: '1x1 matmul', B: 2, T: 130, cin: 70, cout: 129, taps: 1, d: 1, mode: 'causal' },
    // Channel counts divisible by 4, for the lanes kernel too (a partial column tile, rows past a batch item).
    { name: 'lanes-sized causal d=4', B: 3, T: 150, cin: 20, cout: 68, taps: 3, d: 4, mode: 'causal' },
    { name: 'lanes-sized centred d=16', B: 1, T: 300, cin: 32, cout: 16, taps: 3, d: 16, mode: 'centred' },
    { name: 'lanes-sized 1x1', B: 2, T: 129, cin: 64, cout: 260, taps: 1, d: 1, mode: 'causal' },
  ];
  const withTiles = <C extends { cin: number; cout: number }>(c: C) => {
    const tiles: TileVariant[] = ['wide', 'narrow'];
    if (c.cin % 4 === 0 && c.cout % 4 === 0) tiles.push('lanes');
    return tiles.map((tile) => ({ ...c, tile }));
  };
  for (const c of cases.flatMap(withTiles)) {
    it(`${c.name} (${c.tile} tile)`, async (ctx) => {
      const e = await testEngine();
      if (c.tile === 'lanes' && !lanesSupported(e)) ctx.skip('the adapter has no subgroups of 8+ lanes');
      const r = rng(c.T * 31 + c.cin);
      const x = r.fill(c.B * c.T * c.cin);
      const W = r.fill(c.taps * c.cin * c.cout, -0.5, 0.5);
      const b = r.fill(c.cout);
      const xt = e.upload(x, [c.B, c.T, c.cin]);
      const Wt = e.upload(W, [1, c.taps, c.cin, c.cout]);
      const bt = e.upload(b);
      const yt = e.tensor([c.B, c.T, c.cout]);
      await runAll(e, [await conv1d(e, xt, Wt, bt, yt, { taps: c.taps, dilation: c.d, mode: c.mode, tile: c.tile })]);
      const ref = conv1dReference(x, [c.B, c.T, c.cin], W, b, c.cout, { taps: c.taps, dilation: c.d, mode: c.mode });
      expectClose(await e.read(yt), ref, RTOL, ATOL, c.name);
      for (const t of [xt, Wt, bt, yt]) t.release();
    });
  }

  for (const tile of ['wide', 'narrow', 'lanes'] as const)
    it(`fused relu in/out, accumulate and per-frame bias (${tile} tile)`, async (ctx) => {
      const e = await testEngine();
      if (tile === 'lanes' && !lanesSupported(e)) ctx.skip('the adapter has no subgroups of 8+ lanes');
      const r = rng(7);
      const [B, T, cin, cout, frameLen, stride, offset] = [2, 64, 8, 12, 16, 24, 5];
      const frames = T / frameLen;
      const x = r.fill(B * T * cin);
      const W = r.fill(3 * cin * cout);
      const b = r.fill(cout);
      const fb = r.fill(B * frames * stride);
      const y0 = r.fill(B * T * cout);
      const xt = e.upload(x, [B, T, cin]);
      const Wt = e.upload(W, [1, 3, cin, cout]);
      const bt = e.upload(b);
      const fbt = e.upload(fb, [B, frames, stride]);
      const yt = e.upload(y0, [B, T, cout]);
      const o = { taps: 3, dilation: 2, mode: 'causal' as const, reluIn: true, reluOut: true, accumulate: true };
      await runAll(e, [
        await conv1d(e, xt, Wt, bt, yt, { ...o, tile, frameBias: { tensor: fbt, stride, offset, frameLen } }),
      ]);
      const ref = conv1dReference(
        x,
        [B, T, cin],
        W,
        b,
        cout,
        { ...o, frameBias: { data: fb, stride, offset, frameLen } },
        y0,
      );
      expectClose(await e.read(yt), ref, RTOL, ATOL);
    });

  it('rejects a weight of the wrong shape at the call site', async () => {
    const e = await testEngine();
    const xt = e.tensor([1, 8, 4]);
    const Wt = e.tensor([1, 3, 5, 2]);
    await expect(conv1d(e, xt, Wt, null, e.tensor([1, 8, 2]), { taps: 3 })).rejects.toThrow(
      /W has shape \[1,3,5,2\], expected \[1, 3, 4, Cout\]/,
    );
  });
});
