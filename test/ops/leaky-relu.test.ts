// kernels/leaky_relu.wgsl and leaky_relu_backward.wgsl against the references in
// src/ops/leaky-relu.ts, and the backward reference against central finite differences.
import { describe, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import {
  leakyRelu,
  leakyReluBackward,
  leakyReluBackwardReference,
  leakyReluReference,
} from '../../src/ops/leaky-relu.js';

describe('leaky ReLU', () => {
  it('forward, alpha 0.1 and another slope, zeros included', async () => {
    const e = await testEngine();
    const r = rng(31);
    for (const n of [1, 1000, 300_000]) {
      const x = r.fill(n, -3, 3);
      x[0] = 0;
      if (n > 2) x[1] = -0;
      const xt = e.upload(x);
      for (const alpha of [undefined, 0.25]) {
        const y = e.tensor([n]);
        await runAll(e, [await leakyRelu(e, xt, y, alpha)]);
        expectClose(await e.read(y), leakyReluReference(x, alpha), 1e-6, 0, `n ${n}, alpha ${alpha ?? 0.1}`);
        y.release();
      }
      xt.release();
    }
  });

  it('backward, writing and accumulating', async () => {
    const e = await testEngine();
    const r = rng(32);
    for (const n of [7, 300_000]) {
      const x = r.fill(n, -3, 3);
      x[0] = 0; // the slope at 0 is alpha, as TF's LeakyReluGrad
      const dy = r.fill(n);
      const [xt, dyt] = [e.upload(x), e.upload(dy)];
      for (const accumulate of [false, true]) {
        const d0 = r.fill(n);
        const dx = accumulate ? e.upload(d0) : e.tensor([n]);
        await runAll(e, [await leakyReluBackward(e, xt, dyt, dx, accumulate)]);
        const ref = leakyReluBackwardReference(x, dy);
        expectClose(
          await e.read(dx),
          accumulate ? ref.map((v, i) => v + d0[i]) : ref,
          1e-6,
          1e-7,
          `n ${n}, accumulate ${accumulate}`,
        );
        dx.release();
      }
      for (const t of [xt, dyt]) t.release();
    }
  });

  it('the backward reference is the derivative of the forward away from 0 (central differences, float64)', () => {
    const r = rng(33);
    for (const alpha of [0.1, 0.3]) {
      // |x| >= 0.01 keeps x +- h on one side of the kink.
      const x = Float64Array.from(r.fill(200, 0.01, 3), (v, i) => (i % 2 ? -v : v));
      const dy = Float64Array.from(r.fill(200));
      const h = 1e-6;
      const fd = Float64Array.from(x, (v, i) => {
        const up = leakyReluReference(Float64Array.of(v + h), alpha)[0];
        const down = leakyReluReference(Float64Array.of(v - h), alpha)[0];
        return (dy[i] * (up - down)) / (2 * h);
      });
      expectClose(leakyReluBackwardReference(x, dy, alpha), fd, 1e-8, 1e-10, `alpha ${alpha}`);
    }
  });
});
