// kernels/adam_update.wgsl (Adam + EMA, optional global-norm clipping) against adamReference
// (src/ops/adam-update.ts).
import { describe, it } from 'vitest';
import { testEngine, rng, expectClose } from '../helpers.js';
import {
  adamUpdate,
  adamReference,
  adamHyperValues,
  HYPER_NORM_SLOT,
  ADAM_DEFAULTS,
  type AdamHyper,
} from '../../src/ops/adam-update.js';
import { reduceSum } from '../../src/ops/reduce-sum.js';

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
