// kernels/log_softmax_nll.wgsl (and its CPU-adapter variant log_softmax_nll_rows.wgsl) and the
// backward against the references in src/ops/log-softmax-nll.ts.
import { describe, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import {
  logSoftmaxNll,
  logSoftmaxNllBackward,
  logSoftmaxNllBackwardReference,
  logSoftmaxNllReference,
} from '../../src/ops/log-softmax-nll.js';

describe('log-softmax + cross-entropy', () => {
  for (const variant of ['workgroup', 'rows'] as const)
    it(`${variant}: matches the reference, large logits and a rising maximum included`, async () => {
      const e = await testEngine();
      const rows = 37;
      const r = rng(9);
      const x = r.fill(rows * 256, -10, 10);
      x[5] = 80;
      x[300] = -90;
      // Row 2 rises steadily, so the rows kernel's running maximum is replaced at every class.
      for (let c = 0; c < 256; c++) x[2 * 256 + c] = -60 + c * 0.5;
      const labels = Uint32Array.from({ length: rows }, () => Math.floor(r.next() * 256));
      const logp = e.tensor([rows, 256]);
      const nll = e.tensor([rows]);
      await runAll(e, [await logSoftmaxNll(e, e.upload(x, [rows, 256]), e.upload(labels), logp, nll, variant)]);
      const ref = logSoftmaxNllReference(x, 256, labels);
      expectClose(await e.read(logp), ref.logp, 1e-5, 1e-5, 'logp');
      expectClose(await e.read(nll), ref.nll, 1e-5, 1e-5, 'nll');
    });

  it('backward: softmax minus the one-hot label', async () => {
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
    await runAll(e, [
      await logSoftmaxNll(e, xt, lt, logp, nll),
      await logSoftmaxNllBackward(e, logp, lt, dx, 1 / rows),
    ]);
    const lp = await e.read(logp);
    expectClose(
      await e.read(dx),
      logSoftmaxNllBackwardReference(lp, classes, labels, 1 / rows),
      1e-5,
      1e-7,
      'softmax backward',
    );
    for (const t of [xt, lt, logp, nll, dx]) t.release();
  });
});
