// kernels/gate_sigmoid_tanh.wgsl and its backward against the references in src/ops/gate.ts.
import { describe, it, expect } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import { gate, gateBackward, gateBackwardReference, gateReference } from '../../src/ops/gate.js';

describe('gate sigmoid(first half) * tanh(second half)', () => {
  it('gate = sigmoid(first half) * tanh(second half), including saturated inputs', async () => {
    const e = await testEngine();
    const C = 24;
    const x = rng(3).fill(9 * 2 * C, -6, 6);
    x[0] = 200;
    x[C] = -200;
    x[1] = -200;
    x[C + 1] = 200; // exp overflow territory
    const out = e.tensor([9, C]);
    await runAll(e, [await gate(e, e.upload(x, [9, 2 * C]), out)]);
    const got = await e.read(out);
    expect(got.every(Number.isFinite)).toBe(true);
    expectClose(got, gateReference(x, C), 1e-5, 1e-6);
  });

  it('backward: d gate / d x', async () => {
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
});
