// The reference gradients (src/ops/*Reference and the reference tape) against central finite
// differences in float64: every op, then the whole small autoencoder. Relative error
// ||analytic - numeric|| / ||numeric|| must stay under 1e-3. Host-only, no GPU.
import { describe, it, expect } from 'vitest';
import { rng, relativeError } from './helpers.js';
import { conv1dReference, type TapMode } from '../src/ops/conv1d.js';
import { conv1dBackwardReference } from '../src/ops/conv1d-backward.js';
import { gateReference, gateBackwardReference } from '../src/ops/gate.js';
import { reluReference, reluBackwardReference } from '../src/ops/relu.js';
import { avgPoolReference } from '../src/ops/avg-pool.js';
import { upsampleNearestReference } from '../src/ops/upsample-nearest.js';
import { logSoftmaxNllReference, logSoftmaxNllBackwardReference } from '../src/ops/log-softmax-nll.js';
import { ReferenceTape } from '../src/graph/reference.js';
import {
  channelSliceReference,
  concatOneHotBackwardReference,
  concatOneHotReference,
  EMBEDDING_DROPPED,
} from '../src/ops/concat-one-hot.js';
import { autoencoderLoss } from '../src/graph/wavenet.js';
import { weightSpecs } from '../src/model/weights.js';
import { muLawQuantizeReference } from '../src/ops/mu-law.js';
import { MICRO } from './micro-config.js';

const TOL = 1e-3;
const H = 1e-6;

function rand(seed: number, n: number, scale = 1): Float64Array {
  const r = rng(seed);
  return Float64Array.from(r.fill(n), (v) => v * scale);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Central differences of f with respect to every element of `arr` (perturbed in place, restored). */
function numericGrad(f: () => number, arr: Float64Array, h = H): Float64Array {
  const g = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    arr[i] = v + h;
    const fp = f();
    arr[i] = v - h;
    const fm = f();
    arr[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

async function numericGradAsync(f: () => Promise<number>, arr: Float64Array, h: number): Promise<Float64Array> {
  const g = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    arr[i] = v + h;
    const fp = await f();
    arr[i] = v - h;
    const fm = await f();
    arr[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

function expectGrad(analytic: ArrayLike<number>, numeric: Float64Array, what: string): void {
  const e = relativeError(analytic, numeric);
  expect(e, `${what}: relative error ${e.toExponential(2)}`).toBeLessThan(TOL);
  expect(
    numeric.some((v) => v !== 0),
    `${what}: the numeric gradient is all zero`,
  ).toBe(true);
}

describe('op references against finite differences', () => {
  const convCases: {
    name: string;
    taps: number;
    d: number;
    mode: TapMode;
    reluIn: boolean;
    reluOut: boolean;
    residual: boolean;
    frame: boolean;
  }[] = [
    {
      name: 'causal dilated conv, ReLU in and out',
      taps: 3,
      d: 2,
      mode: 'causal',
      reluIn: true,
      reluOut: true,
      residual: false,
      frame: false,
    },
    {
      name: 'centred dilated conv (encoder)',
      taps: 3,
      d: 4,
      mode: 'centred',
      reluIn: false,
      reluOut: false,
      residual: false,
      frame: false,
    },
    {
      name: 'causal-shifted conv (decoder start)',
      taps: 3,
      d: 1,
      mode: 'causal-shifted',
      reluIn: false,
      reluOut: false,
      residual: false,
      frame: false,
    },
    {
      name: 'causal conv with per-frame bias',
      taps: 3,
      d: 2,
      mode: 'causal',
      reluIn: false,
      reluOut: false,
      residual: false,
      frame: true,
    },
    {
      name: '1x1 conv with residual input',
      taps: 1,
      d: 1,
      mode: 'causal',
      reluIn: false,
      reluOut: false,
      residual: true,
      frame: false,
    },
    {
      name: '1x1 conv, ReLU in, per-frame bias (out1)',
      taps: 1,
      d: 1,
      mode: 'causal',
      reluIn: true,
      reluOut: false,
      residual: false,
      frame: true,
    },
  ];
  for (const c of convCases) {
    it(c.name, () => {
      const [B, T, cin, cout, frameLen] = [2, 16, 3, 4, 4];
      const x = rand(1, B * T * cin);
      const W = rand(2, c.taps * cin * cout);
      const b = rand(3, cout);
      const res = c.residual ? rand(4, B * T * cout) : undefined;
      const fb = c.frame ? rand(5, B * (T / frameLen) * cout) : undefined;
      const R = rand(6, B * T * cout); // L = sum(R * y), so dL/dy = R
      const o = { taps: c.taps, dilation: c.d, mode: c.mode, reluIn: c.reluIn, reluOut: c.reluOut };
      const f = () =>
        dot(
          R,
          conv1dReference(x, [B, T, cin], W, b, cout, {
            ...o,
            residual: res,
            frameBias: fb ? { data: fb, stride: cout, offset: 0, frameLen } : undefined,
          }),
        );
      const y = conv1dReference(x, [B, T, cin], W, b, cout, {
        ...o,
        residual: res,
        frameBias: fb ? { data: fb, stride: cout, offset: 0, frameLen } : undefined,
      });
      const g = conv1dBackwardReference(
        { B, T, cin, cout, taps: c.taps, dilation: c.d, mode: c.mode, reluIn: c.reluIn, reluOut: c.reluOut },
        x,
        W,
        y,
        R,
        c.frame ? frameLen : 0,
      );
      expectGrad(g.dx, numericGrad(f, x), `${c.name}: dx`);
      expectGrad(g.dW, numericGrad(f, W), `${c.name}: dW`);
      expectGrad(g.dbias, numericGrad(f, b), `${c.name}: dbias`);
      if (res) expectGrad(g.g, numericGrad(f, res), `${c.name}: d residual`);
      if (fb) expectGrad(g.dframe, numericGrad(f, fb), `${c.name}: d frame bias`);
    });
  }

  it('gate sigmoid(a) * tanh(b)', () => {
    const x = rand(7, 6 * 10, 3);
    const R = rand(8, 6 * 5);
    expectGrad(
      gateBackwardReference(x, R, 5),
      numericGrad(() => dot(R, gateReference(x, 5)), x),
      'gate',
    );
  });

  it('ReLU', () => {
    const x = rand(9, 50);
    const R = rand(10, 50);
    expectGrad(
      reluBackwardReference(x, R),
      numericGrad(() => dot(R, reluReference(x)), x),
      'relu',
    );
  });

  it('average pooling (backward: scaled upsampling) and upsampling (backward: frame sums)', () => {
    const [B, F, C, w] = [2, 3, 4, 8];
    const z = rand(11, B * F * w * C);
    const Rp = rand(12, B * F * C);
    expectGrad(
      upsampleNearestReference(Rp, [B, F, C], w, 1 / w),
      numericGrad(() => dot(Rp, avgPoolReference(z, [B, F * w, C], w)), z),
      'avg pool',
    );
    const e = rand(13, B * F * C);
    const Ru = rand(14, B * F * w * C);
    expectGrad(
      avgPoolReference(Ru, [B, F * w, C], w, 1),
      numericGrad(() => dot(Ru, upsampleNearestReference(e, [B, F, C], w)), e),
      'upsample',
    );
  });

  it("one-hot pitch concatenation (backward: the embedding's channels)", () => {
    const [B, F, C, P] = [2, 3, 4, 128];
    const x = rand(16, B * F * C);
    const R = rand(17, B * F * (C + P));
    const cls = [5, 100];
    expectGrad(
      channelSliceReference(R, C + P, 0, C),
      numericGrad(() => dot(R, concatOneHotReference(x, [B, F, C], cls, P)), x),
      'concat one-hot',
    );
  });

  it('one-hot pitch concatenation with an item trained without its embedding (embedding dropout)', () => {
    const [B, F, C, P] = [2, 3, 4, 128];
    const x = rand(18, B * F * C);
    const R = rand(19, B * F * (C + P));
    const cls = [5, 100 + EMBEDDING_DROPPED];
    expectGrad(
      concatOneHotBackwardReference(R, [B, F, C], cls, P),
      numericGrad(() => dot(R, concatOneHotReference(x, [B, F, C], cls, P)), x),
      'concat one-hot, item 1 dropped',
    );
  });

  it('log-softmax + mean cross-entropy', () => {
    const [rows, classes] = [6, 256];
    const x = rand(15, rows * classes, 4);
    const labels = [0, 255, 17, 128, 3, 200];
    const loss = () => logSoftmaxNllReference(x, classes, labels).nll.reduce((a, b) => a + b, 0) / rows;
    const { logp } = logSoftmaxNllReference(x, classes, labels);
    expectGrad(logSoftmaxNllBackwardReference(logp, classes, labels, 1 / rows), numericGrad(loss, x), 'cross-entropy');
  });
});

describe('the whole autoencoder (reference tape) against finite differences', () => {
  it('every parameter of a micro config, B = 2, T = 48', async () => {
    const [B, T] = [2, 48];
    const r = rng(21);
    // A tone plus noise, so the encoder sees structure and the labels vary.
    const audio = Float32Array.from({ length: B * T }, (_, i) => 0.5 * Math.sin(i * 0.3) + 0.2 * (r.next() - 0.5));
    const q = Array.from(audio, (v) => muLawQuantizeReference(v));
    const x = Float64Array.from(q, (v) => v / 128);
    const labels = q.map((v) => v + 128);
    const params = new Map<string, { shape: number[]; data: Float64Array }>();
    let seed = 100;
    for (const s of weightSpecs(MICRO)) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      params.set(s.name, { shape: s.shape, data: rand(seed++, n, s.name.endsWith('/W') ? 0.8 : 0.3) });
    }
    const tape = new ReferenceTape(params, labels);
    const loss = await autoencoderLoss(tape, MICRO, ReferenceTape.value(x, [B, T, 1]));
    expect(loss.data[0]).toBeGreaterThan(0);
    tape.backward(loss);
    const lossOf = async (): Promise<number> =>
      (await autoencoderLoss(new ReferenceTape(params, labels), MICRO, ReferenceTape.value(x, [B, T, 1]))).data[0];
    const analytic: number[] = [];
    const numeric: number[] = [];
    for (const [name, p] of params) {
      const g = tape.grads.get(name) ?? new Float64Array(p.data.length);
      const n = await numericGradAsync(lossOf, p.data, 1e-5);
      if (name.startsWith('res_4/')) {
        // The last residual projection feeds nothing: no gradient, analytically or numerically.
        expect(tape.grads.has(name)).toBe(false);
        expect(n.every((v) => Math.abs(v) < 1e-9)).toBe(true);
        continue;
      }
      const e = relativeError(g, n);
      expect(e, `${name}: relative error ${e.toExponential(2)}`).toBeLessThan(TOL);
      analytic.push(...g);
      numeric.push(...n);
    }
    expect(relativeError(analytic, numeric)).toBeLessThan(1e-4);
  });
});
