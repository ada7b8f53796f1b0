// Every backward kernel against its plain-TypeScript reference on seeded random inputs (the
// references themselves are checked against finite differences in gradcheck.test.ts).
import { describe, it, expect } from 'vitest';
import { testEngine, rng, runAll, expectClose } from './helpers.js';
import { conv1d, conv1dReference, type TapMode } from '../src/ops/conv1d.js';
import { conv1dBackwardInput, conv1dBackwardWeight, conv1dBackwardReference, weightGradChunks, weightGradScratch, type ConvShape } from '../src/ops/conv1d-backward.js';
import { gateBackward, gateBackwardReference, reluBackward, reluBackwardReference, axpy, axpyReference } from '../src/ops/elementwise.js';
import { avgPool, avgPoolReference, upsampleNearest, upsampleNearestReference } from '../src/ops/frames.js';
import { logSoftmaxNll, logSoftmaxNllBackward, logSoftmaxNllBackwardReference } from '../src/ops/softmax.js';
import { reduceSum, reduceSumReference } from '../src/ops/reduce.js';
import { concatOneHot, concatOneHotReference, channelSlice, channelSliceReference } from '../src/ops/concat.js';
import { adamUpdate, adamReference, adamHyperValues, HYPER_NORM_SLOT, ADAM_DEFAULTS, type AdamHyper } from '../src/ops/adam.js';

// f32 GPU sums of up to a few thousand O(1) terms against float64 references.
const RTOL = 1e-4;
const ATOL = 1e-4;

describe('conv1d backward (input, weight and bias gradients)', () => {
  const cases: (ConvShape & { name: string })[] = [
    { name: 'causal d=2 with ReLU in and out', B: 2, T: 40, cin: 6, cout: 10, taps: 3, dilation: 2, mode: 'causal', reluIn: true, reluOut: true },
    { name: 'centred d=8 (encoder)', B: 1, T: 65, cin: 17, cout: 33, taps: 3, dilation: 8, mode: 'centred', reluIn: false, reluOut: false },
    { name: 'causal-shifted, Cin=1 (start conv)', B: 2, T: 50, cin: 1, cout: 16, taps: 3, dilation: 1, mode: 'causal-shifted', reluIn: false, reluOut: false },
    { name: 'causal d=64 > T/2', B: 1, T: 100, cin: 8, cout: 9, taps: 3, dilation: 64, mode: 'causal', reluIn: false, reluOut: true },
    { name: '1x1 wide, ReLU in', B: 2, T: 70, cin: 70, cout: 129, taps: 1, dilation: 1, mode: 'causal', reluIn: true, reluOut: false },
    { name: 'long sequence: weight gradient over several time chunks', B: 2, T: 1536, cin: 5, cout: 12, taps: 3, dilation: 16, mode: 'causal', reluIn: false, reluOut: false },
  ];
  for (const s of cases.flatMap((x) => (['wide', 'narrow'] as const).map((tile) => ({ ...x, tile })))) {
    it(`${s.name} (${s.tile} tile)`, async () => {
      const e = await testEngine();
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
      const o = { taps: s.taps, dilation: s.dilation, mode: s.mode as TapMode, reluIn: s.reluIn, reluOut: s.reluOut, tile: s.tile };
      await runAll(e, [await conv1d(e, xt, Wt, bt, yt, o)]);
      const y = conv1dReference(x, [s.B, s.T, s.cin], W, b, s.cout, o);
      const ref = conv1dBackwardReference(s, x, W, y, dy);
      // dx written, then accumulated onto an existing gradient; dW accumulated, dbias written.
      const dxt = e.tensor([s.B, s.T, s.cin]);
      const dxAcc = e.upload(dx0, [s.B, s.T, s.cin]);
      const dWt = e.upload(dW0, [1, s.taps, s.cin, s.cout]);
      const dbt = e.tensor([s.cout]);
      const scratch = e.tensor([weightGradScratch(s)]);
      await runAll(e, [
        await conv1dBackwardInput(e, s, dyt, Wt, xt, yt, dxt, false),
        await conv1dBackwardInput(e, s, dyt, Wt, xt, yt, dxAcc, true),
        ...(await conv1dBackwardWeight(e, s, xt, dyt, yt, dWt, dbt, scratch, { W: true, bias: false })),
      ]);
      expectClose(await e.read(dxt), ref.dx, RTOL, ATOL, `${s.name}: dx`);
      expectClose(await e.read(dxAcc), ref.dx.map((v, i) => v + dx0[i]), RTOL, ATOL, `${s.name}: dx accumulated`);
      expectClose(await e.read(dWt), ref.dW.map((v, i) => v + dW0[i]), RTOL, ATOL * 10, `${s.name}: dW`);
      expectClose(await e.read(dbt), ref.dbias, RTOL, ATOL * 10, `${s.name}: dbias`);
      if (s.T > 1000) expect(weightGradChunks(s).chunks).toBeGreaterThan(1);
      for (const t of [xt, Wt, bt, yt, dyt, dxt, dxAcc, dWt, dbt, scratch]) t.release();
    });
  }
});

describe('small backward kernels', () => {
  it('gate: sigmoid(a) * tanh(b)', async () => {
    const e = await testEngine();
    const r = rng(11);
    const [n, C] = [37, 24];
    const x = r.fill(n * 2 * C, -4, 4);
    const dout = r.fill(n * C);
    const xt = e.upload(x, [n, 2 * C]);
    const dt = e.upload(dout, [n, C]);
    const dx = e.tensor([n, 2 * C]);
    await runAll(e, [await gateBackward(e, xt, dt, dx, false)]);
    expectClose(await e.read(dx), gateBackwardReference(x, dout, C), 1e-5, 1e-6, 'gate backward');
    for (const t of [xt, dt, dx]) t.release();
  });

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

  it('pooling and upsampling are each other\'s adjoints (scaled)', async () => {
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
    expectClose(await e.read(up), upsampleNearestReference(dEmb, [B, F, C], win, 1 / win), 1e-6, 1e-7, 'avg-pool backward');
    expectClose(await e.read(sum), avgPoolReference(dZ, [B, F * win, C], win, 1), 1e-5, 1e-6, 'upsample backward (frame sum)');
    for (const t of [a, b, up, sum]) t.release();
  });

  it('log-softmax + cross-entropy', async () => {
    const e = await testEngine();
    const r = rng(14);
    const [rows, classes] = [50, 256];
    const x = r.fill(rows * classes, -5, 5);
    const labels = Uint32Array.from({ length: rows }, () => r.int(classes));
    const xt = e.upload(x, [rows, classes]);
    const lt = e.upload(labels);
    const logp = e.tensor([rows, classes]);
    const nll = e.tensor([rows]);
    const dx = e.tensor([rows, classes]);
    await runAll(e, [await logSoftmaxNll(e, xt, lt, logp, nll), await logSoftmaxNllBackward(e, logp, lt, dx, 1 / rows)]);
    const lp = await e.read(logp);
    expectClose(await e.read(dx), logSoftmaxNllBackwardReference(lp, classes, labels, 1 / rows), 1e-5, 1e-7, 'softmax backward');
    for (const t of [xt, lt, logp, nll, dx]) t.release();
  });

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
    expectClose(await e.read(back), channelSliceReference(ref, C + P, 0, C).map((v, i) => v + before[i]), 1e-6, 1e-7, 'channel slice');
    for (const t of [xt, ct, cat, back]) t.release();
  });

  it('axpy and reduce_sum (sum, sum of squares, into slots)', async () => {
    const e = await testEngine();
    const r = rng(15);
    const x = r.fill(5000);
    const y = r.fill(5000);
    const [xt, yt] = [e.upload(x), e.upload(y)];
    const out = e.tensor([4]);
    await runAll(e, [await axpy(e, xt, yt, 0.5), await reduceSum(e, xt, out, { slot: 1, scale: 0.25 }), await reduceSum(e, xt, out, { slot: 3, squares: true })]);
    expectClose(await e.read(yt), axpyReference(x, y, 0.5), 1e-6, 1e-7, 'axpy');
    const o = await e.read(out);
    expectClose([o[1], o[3]], [reduceSumReference(x, 0.25), reduceSumReference(x, 1, true)], 1e-5, 1e-5, 'reduce_sum');
    for (const t of [xt, yt, out]) t.release();
  });
});

describe('Adam + EMA update', () => {
  for (const maxGradNorm of [0, 0.5]) {
    it(`five steps against the float64 reference${maxGradNorm ? ', with gradient clipping' : ''}`, async () => {
      const e = await testEngine();
      const r = rng(16);
      const n = 3000;
      const h: AdamHyper = { lr: 1e-3, ...ADAM_DEFAULTS, emaDecay: 0.99, maxGradNorm };
      const p = Float64Array.from(r.fill(n));
      const m = new Float64Array(n);
      const v = new Float64Array(n);
      const ema = Float64Array.from(p);
      const pt = e.upload(Float32Array.from(p));
      const emat = e.upload(Float32Array.from(p));
      const [mt, vt] = [e.tensor([n]), e.tensor([n])];
      e.write(mt, new Float32Array(n));
      e.write(vt, new Float32Array(n));
      const gt = e.tensor([n]);
      const hyper = e.tensor([HYPER_NORM_SLOT + 1]);
      const step = await adamUpdate(e, hyper, 1, gt, pt, mt, vt, emat);
      const norm = await reduceSum(e, gt, hyper, { slot: HYPER_NORM_SLOT, squares: true });
      for (let t = 1; t <= 5; t++) {
        const g = r.fill(n, -0.1, 0.1);
        e.write(gt, g);
        e.write(hyper, adamHyperValues(h, t, 1));
        e.run([norm, step]);
        adamReference(h, t, g, p, m, v, ema);
      }
      await e.sync();
      expectClose(await e.read(pt), p, 1e-5, 1e-6, 'params');
      expectClose(await e.read(mt), m, 1e-5, 1e-7, 'm');
      expectClose(await e.read(vt), v, 1e-5, 1e-9, 'v');
      expectClose(await e.read(emat), ema, 1e-5, 1e-6, 'ema');
      for (const t of [pt, emat, mt, vt, gt, hyper]) t.release();
    });
  }
});
