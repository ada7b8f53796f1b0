// kernels/conv2d.wgsl, conv2d_backward_input.wgsl and conv2d_backward_weight.wgsl (+ _sum), and
// their CPU-adapter variants conv2d*_lanes.wgsl, against the float64 references of
// src/ops/conv2d.ts; the references against each other (adjoint identities) and against central
// finite differences.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import {
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardInputReference,
  conv2dBackwardWeight,
  conv2dBackwardWeightReference,
  conv2dGeometry,
  conv2dReference,
  conv2dWeightGradScratch,
  type Conv2dShape,
} from '../../src/ops/conv2d.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import { lanesPreferred } from '../../src/gpu/lanes.js';

// f32 GPU sums of up to a few hundred O(1) terms against float64 references (y and dx); the worst
// element sits near a tenth of these tolerances on lavapipe.
const RTOL = 1e-5;
const ATOL = 1e-5;
/** The weight gradient sums over every output position: its f32 rounding grows like the square root of their count. */
function weightAtol(s: Conv2dShape): number {
  const { OH, OW } = conv2dGeometry(s);
  return ATOL * Math.max(1, Math.sqrt(s.B * OH * OW));
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

type Case = Conv2dShape & { name: string; bias: boolean };
const shape = (name: string, bias: boolean, s: Conv2dShape): Case => ({ name, bias, ...s });

describe('conv2d geometry (TF SAME)', () => {
  it('matches TF output sizes and puts the odd padding pixel at the bottom/right', () => {
    const g = (H: number, W: number, kh: number, kw: number, sh: number, sw: number) =>
      conv2dGeometry({ B: 1, H, W, cin: 1, cout: 1, kh, kw, sh, sw });
    expect(g(512, 256, 5, 5, 2, 2)).toEqual({ OH: 256, OW: 128, padTop: 1, padLeft: 1 }); // pads 3: 1 + 2
    expect(g(2, 1, 4, 4, 2, 1)).toEqual({ OH: 1, OW: 1, padTop: 1, padLeft: 1 }); // pads 2 and 3
    expect(g(9, 8, 4, 4, 2, 2)).toEqual({ OH: 5, OW: 4, padTop: 1, padLeft: 1 }); // pads 3 and 2
    expect(g(7, 6, 4, 4, 1, 1)).toEqual({ OH: 7, OW: 6, padTop: 1, padLeft: 1 }); // pads 3
    expect(g(6, 5, 5, 5, 1, 1)).toEqual({ OH: 6, OW: 5, padTop: 2, padLeft: 2 }); // pads 4
    expect(g(8, 7, 1, 1, 2, 2)).toEqual({ OH: 4, OW: 4, padTop: 0, padLeft: 0 }); // would pad -1: none
    expect(g(3, 2, 5, 5, 2, 2)).toEqual({ OH: 2, OW: 1, padTop: 2, padLeft: 1 }); // kernel wider than the input
  });
});

const cases: Case[] = [
  shape('5x5 stride 2, odd/even sizes', true, { B: 1, H: 13, W: 10, cin: 3, cout: 8, kh: 5, kw: 5, sh: 2, sw: 2 }),
  shape('4x4 stride 2, batch 3', false, { B: 3, H: 9, W: 8, cin: 5, cout: 7, kh: 4, kw: 4, sh: 2, sw: 2 }),
  shape('4x4 stride (2,1), 2x1 -> 1x1', true, { B: 3, H: 2, W: 1, cin: 6, cout: 5, kh: 4, kw: 4, sh: 2, sw: 1 }),
  shape('4x4 stride (2,1) on a larger map', true, { B: 1, H: 6, W: 5, cin: 4, cout: 3, kh: 4, kw: 4, sh: 2, sw: 1 }),
  shape('1x1 on 1x1 maps, wide', true, { B: 3, H: 1, W: 1, cin: 130, cout: 67, kh: 1, kw: 1, sh: 1, sw: 1 }),
  shape('1x1 stride 1', false, { B: 1, H: 5, W: 7, cin: 9, cout: 4, kh: 1, kw: 1, sh: 1, sw: 1 }),
  shape('1x1 stride 2', true, { B: 2, H: 7, W: 8, cin: 3, cout: 5, kh: 1, kw: 1, sh: 2, sw: 2 }),
  shape('4x4 stride 1 (asymmetric padding)', false, {
    B: 1,
    H: 7,
    W: 6,
    cin: 4,
    cout: 6,
    kh: 4,
    kw: 4,
    sh: 1,
    sw: 1,
  }),
  shape('5x5 stride 1', true, { B: 2, H: 6, W: 5, cin: 2, cout: 3, kh: 5, kw: 5, sh: 1, sw: 1 }),
  shape('5x5 kernel larger than the input', true, { B: 1, H: 3, W: 2, cin: 2, cout: 3, kh: 5, kw: 5, sh: 2, sw: 2 }),
  // Chunks of 65 output positions, so chunks start mid-row and mid-image.
  shape('weight gradient over 14 chunks', true, { B: 3, H: 40, W: 30, cin: 3, cout: 16, kh: 5, kw: 5, sh: 2, sw: 2 }),
  shape('encoder input layer, 512x256x1 -> 256x128x8', true, {
    B: 1,
    H: 512,
    W: 256,
    cin: 1,
    cout: 8,
    kh: 5,
    kw: 5,
    sh: 2,
    sw: 2,
  }),
  // Five blocks of 8 output channels; the weight gradient in 2048 chunks of 64 positions.
  shape('1x1 to 40 channels on a 512x256 map', false, {
    B: 1,
    H: 512,
    W: 256,
    cin: 1,
    cout: 40,
    kh: 1,
    kw: 1,
    sh: 1,
    sw: 1,
  }),
  // The channel counts the lanes kernels read as vec4 (multiples of 4), at the baseline's strides.
  shape('5x5 stride (2,1), 8 -> 8 channels (the last decoder layer)', false, {
    B: 2,
    H: 10,
    W: 7,
    cin: 8,
    cout: 8,
    kh: 5,
    kw: 5,
    sh: 2,
    sw: 1,
  }),
  shape('5x5 stride 2, 8 -> 8 channels', true, { B: 2, H: 9, W: 11, cin: 8, cout: 8, kh: 5, kw: 5, sh: 2, sw: 2 }),
  // 12 channels: a channel block of 8 and one half full.
  shape('4x4 stride 2, 12 -> 12 channels', true, { B: 1, H: 8, W: 6, cin: 12, cout: 12, kh: 4, kw: 4, sh: 2, sw: 2 }),
  shape('3x3 stride 1, 16 -> 24 channels', false, { B: 2, H: 5, W: 6, cin: 16, cout: 24, kh: 3, kw: 3, sh: 1, sw: 1 }),
  // Stride phases with no taps: three of the four phases of dx are zero.
  shape('1x1 stride 2, 4 -> 4 channels', true, { B: 2, H: 7, W: 6, cin: 4, cout: 4, kh: 1, kw: 1, sh: 2, sw: 2 }),
  shape('5x5 kernel larger than the input, 4 -> 8 channels', true, {
    B: 1,
    H: 3,
    W: 2,
    cin: 4,
    cout: 8,
    kh: 5,
    kw: 5,
    sh: 2,
    sw: 2,
  }),
  // 2048*2064 pixels: more than 65535 workgroups of 64, so the plain kernels' grid-stride loops run
  // (and the weight gradient's chunks reach the grid's limit).
  shape('1x1 beyond one grid', false, { B: 1, H: 2048, W: 2064, cin: 1, cout: 1, kh: 1, kw: 1, sh: 1, sw: 1 }),
];

/** Runs every case through the forward and both gradients (written once and accumulated once). */
function describeGpu(title: string, kernels: 'default' | 'tiles'): void {
  describe(title, () => {
    // NSYNTH_KERNELS=tiles keeps the plain kernels on CPU adapters too (src/gpu/lanes.ts).
    const saved = process.env.NSYNTH_KERNELS;
    beforeAll(() => {
      if (kernels === 'tiles') process.env.NSYNTH_KERNELS = 'tiles';
    });
    afterAll(() => {
      if (saved === undefined) delete process.env.NSYNTH_KERNELS;
      else process.env.NSYNTH_KERNELS = saved;
    });

    for (const s of cases) {
      it(`${s.name} (${s.bias ? 'bias' : 'no bias'})`, async () => {
        const e = await testEngine();
        const { OH, OW } = conv2dGeometry(s);
        const nx = s.B * s.H * s.W * s.cin;
        const ny = s.B * OH * OW * s.cout;
        const nw = s.kh * s.kw * s.cin * s.cout;
        const r = rng(s.H * 131 + s.W * 7 + s.cin * 3 + s.cout);
        const x = r.fill(nx);
        const w = r.fill(nw, -0.5, 0.5);
        const b = s.bias ? r.fill(s.cout) : null;
        const dy = r.fill(ny);
        const y0 = r.fill(ny);
        const dx0 = r.fill(nx);
        const dw0 = r.fill(nw);
        const db0 = r.fill(s.cout);

        const owned: Tensor[] = [];
        const up = (a: Float32Array, sh: number[]) => {
          const t = e.upload(a, sh);
          owned.push(t);
          return t;
        };
        const fresh = (sh: number[]) => {
          const t = e.tensor(sh);
          owned.push(t);
          return t;
        };
        const xt = up(x, [s.B, s.H, s.W, s.cin]);
        const wt = up(w, [s.kh, s.kw, s.cin, s.cout]);
        const bt = b ? up(b, [s.cout]) : null;
        const dyt = up(dy, [s.B, OH, OW, s.cout]);
        const yt = fresh([s.B, OH, OW, s.cout]);
        const yAcc = up(y0, [s.B, OH, OW, s.cout]);
        const dxt = fresh([s.B, s.H, s.W, s.cin]);
        const dxAcc = up(dx0, [s.B, s.H, s.W, s.cin]);
        const dwt = fresh([s.kh, s.kw, s.cin, s.cout]);
        const dwAcc = up(dw0, [s.kh, s.kw, s.cin, s.cout]);
        const dbt = s.bias ? fresh([s.cout]) : null;
        const dbAcc = s.bias ? up(db0, [s.cout]) : null;
        const nScratch = conv2dWeightGradScratch(s);
        const scratch = nScratch > 0 ? fresh([nScratch]) : null;

        // Everything written once and accumulated once; both weight gradients share the scratch.
        await runAll(e, [
          await conv2d(e, s, xt, wt, bt, yt),
          await conv2d(e, s, xt, wt, bt, yAcc, true),
          await conv2dBackwardInput(e, s, dyt, wt, dxt, false),
          await conv2dBackwardInput(e, s, dyt, wt, dxAcc, true),
          ...(await conv2dBackwardWeight(e, s, xt, dyt, dwt, dbt, scratch, false)),
          ...(await conv2dBackwardWeight(e, s, xt, dyt, dwAcc, dbAcc, scratch, true)),
        ]);

        const y = conv2dReference(s, x, w, b);
        const dx = conv2dBackwardInputReference(s, dy, w);
        const g = conv2dBackwardWeightReference(s, x, dy);
        const wAtol = weightAtol(s);
        expectClose(await e.read(yt), y, RTOL, ATOL, `${s.name}: y`);
        expectClose(
          await e.read(yAcc),
          y.map((v, i) => v + y0[i]),
          RTOL,
          ATOL,
          `${s.name}: y accumulated`,
        );
        expectClose(await e.read(dxt), dx, RTOL, ATOL, `${s.name}: dx`);
        expectClose(
          await e.read(dxAcc),
          dx.map((v, i) => v + dx0[i]),
          RTOL,
          ATOL,
          `${s.name}: dx accumulated`,
        );
        expectClose(await e.read(dwt), g.dw, RTOL, wAtol, `${s.name}: dw`);
        expectClose(
          await e.read(dwAcc),
          g.dw.map((v, i) => v + dw0[i]),
          RTOL,
          wAtol,
          `${s.name}: dw accumulated`,
        );
        if (dbt && dbAcc) {
          expectClose(await e.read(dbt), g.dbias, RTOL, wAtol, `${s.name}: dbias`);
          expectClose(
            await e.read(dbAcc),
            g.dbias.map((v, i) => v + db0[i]),
            RTOL,
            wAtol,
            `${s.name}: dbias accumulated`,
          );
        }

        // Which weight-gradient path ran: straight into dw for few output positions, chunks otherwise.
        const chunks = nScratch / (nw + s.cout);
        if (s.B * OH * OW >= 900) expect(chunks).toBeGreaterThan(1);
        if (s.B * OH * OW < 128) expect(nScratch).toBe(0);
        for (const t of owned) t.release();
      });
    }
  });
}

describeGpu('conv2d forward, input and weight gradients on the GPU', 'default');
describeGpu('conv2d forward, input and weight gradients on the GPU, plain kernels (as on GPUs)', 'tiles');

describe('conv2d kernel choice', () => {
  it('runs the lanes kernels on CPU adapters (both Cin paths) and the plain ones when told to', async () => {
    const e = await testEngine();
    const names = e.registry.names();
    if (lanesPreferred(e)) {
      for (const k of [
        'conv2d_lanes(CIN_VEC=0)',
        'conv2d_lanes(CIN_VEC=1)',
        'conv2d_backward_input_lanes',
        'conv2d_backward_weight_lanes(CIN_VEC=0)',
        'conv2d_backward_weight_lanes(CIN_VEC=1)',
      ])
        expect(names).toContain(k);
    }
    // Cout = 8 runs the lanes kernels on a CPU adapter unless NSYNTH_KERNELS=tiles: the plain
    // kernels with 8-channel blocks ran in the second pass.
    for (const k of ['conv2d(CB=8)', 'conv2d_backward_input(CB=8)', 'conv2d_backward_weight(CB=8)'])
      expect(names).toContain(k);
  });

  it('rejects wrong shapes and a missing scratch at the call site', async () => {
    const e = await testEngine();
    const s: Conv2dShape = { B: 2, H: 40, W: 30, cin: 3, cout: 4, kh: 5, kw: 5, sh: 2, sw: 2 };
    const { OH, OW } = conv2dGeometry(s);
    const x = e.tensor([2, 40, 30, 3]);
    const w = e.tensor([5, 5, 3, 4]);
    const y = e.tensor([2, OH, OW, 4]);
    const wrong = e.tensor([4, 4, 3, 4]);
    await expect(conv2d(e, s, x, wrong, null, y)).rejects.toThrow(/conv2d: w has 192 elements/);
    await expect(conv2d(e, s, x, w, wrong, y)).rejects.toThrow(/conv2d: bias has/);
    await expect(conv2d(e, { ...s, sh: 0 }, x, w, null, y)).rejects.toThrow(/shape field sh is 0/);
    await expect(conv2dBackwardInput(e, s, y, w, wrong, false)).rejects.toThrow(/conv2dBackwardInput: dx has/);
    expect(conv2dWeightGradScratch(s)).toBeGreaterThan(0);
    await expect(conv2dBackwardWeight(e, s, x, y, w, null, null, false)).rejects.toThrow(/scratch is null, needs/);
    for (const t of [x, w, y, wrong]) t.release();
  });
});

// Float64 shapes for the identities and finite differences: every stride, kernel size and
// padding asymmetry the model uses, small enough to perturb every parameter.
const small: Conv2dShape[] = [
  { B: 2, H: 5, W: 4, cin: 2, cout: 3, kh: 4, kw: 4, sh: 2, sw: 2 },
  { B: 1, H: 5, W: 6, cin: 2, cout: 2, kh: 5, kw: 5, sh: 2, sw: 1 },
  { B: 2, H: 3, W: 3, cin: 3, cout: 2, kh: 1, kw: 1, sh: 1, sw: 1 },
  { B: 1, H: 2, W: 1, cin: 2, cout: 3, kh: 4, kw: 4, sh: 2, sw: 1 },
  { B: 1, H: 6, W: 7, cin: 2, cout: 2, kh: 4, kw: 5, sh: 1, sw: 2 },
];
const fill64 = (r: ReturnType<typeof rng>, n: number) => Float64Array.from({ length: n }, () => r.uniform(-1, 1));

describe('conv2d references (float64)', () => {
  it('the input and weight gradients are the adjoints of the forward conv', () => {
    for (const [k, s] of [...small, { B: 3, H: 17, W: 12, cin: 4, cout: 5, kh: 5, kw: 5, sh: 2, sw: 2 }].entries()) {
      const { OH, OW } = conv2dGeometry(s);
      const r = rng(100 + k);
      const x = fill64(r, s.B * s.H * s.W * s.cin);
      const w = fill64(r, s.kh * s.kw * s.cin * s.cout);
      const g = fill64(r, s.B * OH * OW * s.cout);
      // <conv(x, w), g> = <x, conv^T(g, w)> = <w, dw(x, g)>: the transposed conv is exactly the adjoint.
      const lhs = dot(conv2dReference(s, x, w, null), g);
      const viaX = dot(x, conv2dBackwardInputReference(s, g, w));
      const viaW = dot(w, conv2dBackwardWeightReference(s, x, g).dw);
      expect(Math.abs(lhs - viaX)).toBeLessThan(1e-12 * Math.max(1, Math.abs(lhs)));
      expect(Math.abs(lhs - viaW)).toBeLessThan(1e-12 * Math.max(1, Math.abs(lhs)));
    }
  });

  it('the gradients match central finite differences of a nonlinear loss', () => {
    for (const [k, s] of small.entries()) {
      const { OH, OW } = conv2dGeometry(s);
      const r = rng(200 + k);
      const x = fill64(r, s.B * s.H * s.W * s.cin);
      const w = fill64(r, s.kh * s.kw * s.cin * s.cout);
      const b = fill64(r, s.cout);
      const g = fill64(r, s.B * OH * OW * s.cout);
      // L = sum g * tanh(conv(x, w) + b), so dL/dy = g * (1 - tanh(y)^2).
      const loss = () => dot(g, conv2dReference(s, x, w, b).map(Math.tanh));
      const y = conv2dReference(s, x, w, b);
      const dy = y.map((v, i) => g[i] * (1 - Math.tanh(v) ** 2));
      const dx = conv2dBackwardInputReference(s, dy, w);
      const { dw, dbias } = conv2dBackwardWeightReference(s, x, dy);
      const h = 1e-5;
      const numeric = (p: Float64Array) =>
        Float64Array.from(p, (v, i) => {
          p[i] = v + h;
          const up = loss();
          p[i] = v - h;
          const down = loss();
          p[i] = v;
          return (up - down) / (2 * h);
        });
      // Central differences: O(h^2) truncation (~1e-10) and ~1e-11 of rounding.
      expectClose(dx, numeric(x), 1e-6, 1e-8, `shape ${k}: dx`);
      expectClose(dw, numeric(w), 1e-6, 1e-8, `shape ${k}: dw`);
      expectClose(dbias, numeric(b), 1e-6, 1e-8, `shape ${k}: dbias`);
    }
  });
});
