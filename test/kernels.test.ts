// Every kernel against its plain-TypeScript reference on seeded random inputs.
import { describe, it, expect } from 'vitest';
import { testEngine, rng, runAll, expectClose } from './helpers.js';
import { conv1d, conv1dReference, type TapMode } from '../src/ops/conv1d.js';
import { relu, reluReference, add, addReference, gate, gateReference } from '../src/ops/elementwise.js';
import { avgPool, avgPoolReference, upsampleNearest, upsampleNearestReference } from '../src/ops/frames.js';
import {
  muLawQuantize, muLawDecode, muLawQuantizeReference, muLawFormula, muLawDecodeReference,
  MU_LAW_EDGES, MU_LAW_DECODE_TABLE,
} from '../src/ops/mulaw.js';
import { logSoftmaxNll, logSoftmaxNllReference } from '../src/ops/softmax.js';

// f32 GPU sums against float64 references: reductions of up to ~1.5k terms of O(1) values.
const RTOL = 1e-5;
const ATOL = 1e-5;

describe('conv1d (dilated K-tap conv and 1x1 matmul)', () => {
  const cases: { name: string; B: number; T: number; cin: number; cout: number; taps: number; d: number; mode: TapMode }[] = [
    { name: 'causal d=1', B: 1, T: 37, cin: 5, cout: 7, taps: 3, d: 1, mode: 'causal' },
    { name: 'causal d=4, batch 2', B: 2, T: 70, cin: 19, cout: 66, taps: 3, d: 4, mode: 'causal' },
    { name: 'causal d=64 > T/2', B: 1, T: 100, cin: 8, cout: 9, taps: 3, d: 64, mode: 'causal' },
    { name: 'centred d=8', B: 2, T: 65, cin: 17, cout: 33, taps: 3, d: 8, mode: 'centred' },
    { name: 'centred d=1, Cin=1 (start conv)', B: 3, T: 50, cin: 1, cout: 12, taps: 3, d: 1, mode: 'centred' },
    { name: 'causal-shifted (shift_right + causal)', B: 2, T: 40, cin: 1, cout: 16, taps: 3, d: 1, mode: 'causal-shifted' },
    { name: '1x1 matmul', B: 2, T: 130, cin: 70, cout: 129, taps: 1, d: 1, mode: 'causal' },
  ];
  for (const c of cases.flatMap((x) => (['wide', 'narrow'] as const).map((tile) => ({ ...x, tile })))) {
    it(`${c.name} (${c.tile} tile)`, async () => {
      const e = await testEngine();
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

  for (const tile of ['wide', 'narrow'] as const) it(`fused relu in/out, accumulate and per-frame bias (${tile} tile)`, async () => {
    const e = await testEngine();
    const r = rng(7);
    const [B, T, cin, cout, frameLen, stride, offset] = [2, 64, 6, 10, 16, 24, 5];
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
    await runAll(e, [await conv1d(e, xt, Wt, bt, yt, { ...o, tile, frameBias: { tensor: fbt, stride, offset, frameLen } })]);
    const ref = conv1dReference(x, [B, T, cin], W, b, cout, { ...o, frameBias: { data: fb, stride, offset, frameLen } }, y0);
    expectClose(await e.read(yt), ref, RTOL, ATOL);
  });

  it('rejects a weight of the wrong shape at the call site', async () => {
    const e = await testEngine();
    const xt = e.tensor([1, 8, 4]);
    const Wt = e.tensor([1, 3, 5, 2]);
    await expect(conv1d(e, xt, Wt, null, e.tensor([1, 8, 2]), { taps: 3 })).rejects.toThrow(/W has shape \[1,3,5,2\], expected \[1, 3, 4, Cout\]/);
  });
});

describe('elementwise kernels', () => {
  it('relu', async () => {
    const e = await testEngine();
    const x = rng(1).fill(1000);
    const xt = e.upload(x);
    const out = e.tensor([1000]);
    await runAll(e, [await relu(e, xt, out)]);
    expectClose(await e.read(out), reluReference(x), 0, 0);
  });

  it('residual add', async () => {
    const e = await testEngine();
    const r = rng(2);
    const a = r.fill(777);
    const b = r.fill(777);
    const out = e.tensor([777]);
    await runAll(e, [await add(e, e.upload(a), e.upload(b), out)]);
    expectClose(await e.read(out), addReference(a, b), 1e-7, 0);
  });

  it('gate = sigmoid(first half) * tanh(second half), including saturated inputs', async () => {
    const e = await testEngine();
    const C = 24;
    const x = rng(3).fill(9 * 2 * C, -6, 6);
    x[0] = 200; x[C] = -200; x[1] = -200; x[C + 1] = 200; // exp overflow territory
    const out = e.tensor([9, C]);
    await runAll(e, [await gate(e, e.upload(x, [9, 2 * C]), out)]);
    const got = await e.read(out);
    expect(got.every(Number.isFinite)).toBe(true);
    expectClose(got, gateReference(x, C), 1e-5, 1e-6);
  });
});

describe('frame-rate kernels', () => {
  it('average pooling over 512 samples', async () => {
    const e = await testEngine();
    const [B, T, C] = [2, 1536, 16];
    const x = rng(4).fill(B * T * C);
    const out = e.tensor([B, T / 512, C]);
    await runAll(e, [await avgPool(e, e.upload(x, [B, T, C]), out, 512)]);
    expectClose(await e.read(out), avgPoolReference(x, [B, T, C], 512), 1e-5, 1e-6);
  });

  it('nearest-neighbour upsampling of frames to samples', async () => {
    const e = await testEngine();
    const [B, F, C] = [2, 3, 5];
    const x = rng(5).fill(B * F * C);
    const out = e.tensor([B, F * 512, C]);
    await runAll(e, [await upsampleNearest(e, e.upload(x, [B, F, C]), out, 512)]);
    expectClose(await e.read(out), upsampleNearestReference(x, [B, F, C], 512), 0, 0);
  });
});

describe('mu-law', () => {
  it('the edge-based quantiser equals Magenta\'s formula, with x = 1.0 clamped to 127', () => {
    const r = rng(6);
    const xs = [0, 1, -1, 0.5, -0.5, 1e-9, -1e-9, ...Array.from({ length: 20000 }, () => r.uniform(-1, 1))];
    // ... and points just either side of every edge
    for (let k = 1; k <= 128; k++) xs.push(MU_LAW_EDGES[k] * (1 + 1e-6), MU_LAW_EDGES[k] * (1 - 1e-6), -MU_LAW_EDGES[k] * (1 + 1e-6), -MU_LAW_EDGES[k] * (1 - 1e-6));
    for (const x of xs) expect(muLawQuantizeReference(x)).toBe(muLawFormula(Math.fround(x)));
    expect(muLawQuantizeReference(1.0)).toBe(127);
    expect(muLawQuantizeReference(-1.0)).toBe(-128);
    expect(muLawQuantizeReference(0)).toBe(0);
  });

  it('GPU quantise equals the reference exactly; decode(k) is Magenta\'s inv_mu_law and round-trips', async () => {
    const e = await testEngine();
    const r = rng(8);
    const audio = Float32Array.from({ length: 5000 }, (_, i) => (i < 256 ? MU_LAW_DECODE_TABLE[i] : r.uniform(-1.2, 1.2)));
    audio[300] = 1.0; audio[301] = -1.0; audio[302] = 0;
    const n = audio.length;
    const scaled = e.tensor([n]);
    const classes = e.tensor([n], 'u32');
    const decoded = e.tensor([n]);
    await runAll(e, [
      await muLawQuantize(e, e.upload(audio), e.upload(MU_LAW_EDGES), scaled, classes),
      await muLawDecode(e, classes, e.upload(MU_LAW_DECODE_TABLE), decoded),
    ]);
    const k = await e.read(classes, 'u32');
    const s = await e.read(scaled);
    for (let i = 0; i < n; i++) {
      const q = muLawQuantizeReference(Math.max(-1, Math.min(1, audio[i])));
      expect(k[i], `sample ${i} = ${audio[i]}`).toBe(q + 128);
      expect(s[i]).toBe(q / 128);
    }
    // encode(decode(q)) == q for all 256 classes (the fast generator's feedback identity)
    for (let c = 0; c < 256; c++) expect(k[c]).toBe(c);
    expect(k[300]).toBe(255);
    expect(await e.read(decoded)).toEqual(muLawDecodeReference(k));
    expect(MU_LAW_DECODE_TABLE[255]).toBeCloseTo(0.97849, 4);
    expect(MU_LAW_DECODE_TABLE[128]).toBe(0);
  });
});

describe('log-softmax + cross-entropy', () => {
  it('matches the reference, large logits included', async () => {
    const e = await testEngine();
    const rows = 37;
    const r = rng(9);
    const x = r.fill(rows * 256, -10, 10);
    x[5] = 80; x[300] = -90;
    const labels = Uint32Array.from({ length: rows }, () => Math.floor(r.next() * 256));
    const logp = e.tensor([rows, 256]);
    const nll = e.tensor([rows]);
    await runAll(e, [await logSoftmaxNll(e, e.upload(x, [rows, 256]), e.upload(labels), logp, nll)]);
    const ref = logSoftmaxNllReference(x, 256, labels);
    expectClose(await e.read(logp), ref.logp, 1e-5, 1e-5, 'logp');
    expectClose(await e.read(nll), ref.nll, 1e-5, 1e-5, 'nll');
  });
});
