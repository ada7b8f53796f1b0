// kernels/batch_norm_*.wgsl against the references in src/ops/batch-norm.ts, and the backward
// reference against central finite differences of the training forward (through its batch
// statistics) in float64.
import { describe, expect, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import {
  BATCH_NORM_EPS,
  batchNormBackward,
  batchNormBackwardReference,
  batchNormBackwardScratch,
  batchNormInfer,
  batchNormInferReference,
  batchNormMovingUpdate,
  batchNormTrain,
  batchNormTrainReference,
} from '../../src/ops/batch-norm.js';
import type { Engine } from '../../src/gpu/engine.js';
import type { Rng } from '../../src/util/rng.js';

/** [rows, channels]: one chunk, many chunks, a partly filled channel tile, C of 1, 8 and 128. */
const SHAPES: [number, number][] = [
  [37, 1],
  [70_000, 1],
  [1000, 8],
  [65_536, 8],
  [3000, 100],
  [4096, 128],
  [2 * 128 * 64, 128],
];

/** Rows of C channels, each channel with its own offset and spread (as activations after a conv). */
function activations(r: Rng, rows: number, C: number): Float32Array {
  const offset = r.fill(C, -3, 3);
  const spread = r.fill(C, 0.2, 4);
  return Float32Array.from({ length: rows * C }, (_, i) => offset[i % C] + spread[i % C] * r.uniform(-1, 1));
}

async function train(e: Engine, x: Float32Array, beta: Float32Array, C: number) {
  const xt = e.upload(x, [x.length / C, C]);
  const bt = e.upload(beta);
  const y = e.tensor([x.length / C, C]);
  const mean = e.tensor([C]);
  const invStd = e.tensor([C]);
  await runAll(e, await batchNormTrain(e, xt, bt, y, mean, invStd, { channels: C }));
  return { xt, bt, y, mean, invStd };
}

describe('batch norm', () => {
  it('training forward: batch mean, invStd and y against the reference', async () => {
    const e = await testEngine();
    const r = rng(21);
    for (const [rows, C] of SHAPES) {
      const x = activations(r, rows, C);
      const beta = r.fill(C);
      const t = await train(e, x, beta, C);
      const ref = batchNormTrainReference(x, beta, C);
      const what = `[${rows}, ${C}]`;
      expectClose(await e.read(t.mean), ref.mean, 1e-5, 1e-5, `mean ${what}`);
      expectClose(
        await e.read(t.invStd),
        ref.variance.map((v) => 1 / Math.sqrt(v + BATCH_NORM_EPS)),
        2e-5,
        0,
        `invStd ${what}`,
      );
      expectClose(await e.read(t.y), ref.y, 1e-5, 2e-5, `y ${what}`);
      for (const u of Object.values(t)) u.release();
    }
  });

  it('the variance is exact for a channel far from zero (two passes, not E[x^2] - E[x]^2)', async () => {
    const e = await testEngine();
    const r = rng(22);
    const [rows, C] = [20_000, 2];
    // In f32, E[x^2] - E[x]^2 would lose the variance (1/3) under rounding of E[x^2] (1e6).
    const x = Float32Array.from({ length: rows * C }, (_, i) => (i % C === 0 ? 1000 : -500) + r.uniform(-1, 1));
    const beta = new Float32Array(C);
    const t = await train(e, x, beta, C);
    const ref = batchNormTrainReference(x, beta, C);
    expectClose(
      await e.read(t.invStd),
      ref.variance.map((v) => 1 / Math.sqrt(v + BATCH_NORM_EPS)),
      1e-4,
      0,
      'invStd',
    );
    expectClose(await e.read(t.y), ref.y, 1e-3, 1e-3, 'y');
    for (const u of Object.values(t)) u.release();
  });

  it('inference with the moving statistics', async () => {
    const e = await testEngine();
    const r = rng(23);
    for (const [rows, C] of [
      [50, 1],
      [999, 8],
      [4096, 128],
    ]) {
      const x = activations(r, rows, C);
      const [beta, mm, mv] = [r.fill(C), r.fill(C, -2, 2), r.fill(C, 0, 3)];
      const [xt, bt, mmt, mvt] = [e.upload(x, [rows, C]), e.upload(beta), e.upload(mm), e.upload(mv)];
      const y = e.tensor([rows, C]);
      await runAll(e, [await batchNormInfer(e, xt, bt, mmt, mvt, y, { channels: C })]);
      expectClose(await e.read(y), batchNormInferReference(x, beta, mm, mv, C), 1e-5, 1e-5, `[${rows}, ${C}]`);
      for (const u of [xt, bt, mmt, mvt, y]) u.release();
    }
  });

  it('moving averages: decay * moving + (1 - decay) * batch statistic, the variance from invStd', async () => {
    const e = await testEngine();
    const r = rng(24);
    const [rows, C] = [3000, 128];
    const x = activations(r, rows, C);
    const t = await train(e, x, new Float32Array(C), C);
    const ref = batchNormTrainReference(x, new Float32Array(C), C);
    const [mm, mv] = [r.fill(C, -1, 1), r.fill(C, 0.5, 2)];
    for (const decay of [undefined, 0.9]) {
      const d = decay ?? 0.999;
      const [mmt, mvt] = [e.upload(mm), e.upload(mv)];
      await runAll(e, [await batchNormMovingUpdate(e, t.mean, t.invStd, mmt, mvt, { decay })]);
      expectClose(
        await e.read(mmt),
        Float64Array.from(mm, (v, c) => d * v + (1 - d) * ref.mean[c]),
        1e-6,
        1e-6,
        `moving mean, decay ${d}`,
      );
      expectClose(
        await e.read(mvt),
        Float64Array.from(mv, (v, c) => d * v + (1 - d) * ref.variance[c]),
        1e-5,
        1e-6,
        `moving variance, decay ${d}`,
      );
      for (const u of [mmt, mvt]) u.release();
    }
    for (const u of Object.values(t)) u.release();
  });

  it('backward: dx through the batch statistics and dbeta, writing and accumulating', async () => {
    const e = await testEngine();
    const r = rng(25);
    for (const [rows, C] of SHAPES) {
      const x = activations(r, rows, C);
      const dy = r.fill(rows * C);
      const t = await train(e, x, new Float32Array(C), C);
      const dyt = e.upload(dy, [rows, C]);
      const scratch = e.tensor([batchNormBackwardScratch(C, rows)]);
      const ref = batchNormBackwardReference(x, dy, C);
      const what = `[${rows}, ${C}]`;
      // dbeta sums |dy| ~ 0.5 over the rows, so its rounding grows with sqrt(rows).
      const dbetaAtol = 1e-6 * Math.sqrt(rows);
      for (const accumulate of [false, true]) {
        const dx0 = r.fill(rows * C);
        const db0 = r.fill(C);
        const [dx, dbeta] = accumulate
          ? [e.upload(dx0, [rows, C]), e.upload(db0)]
          : [e.tensor([rows, C]), e.tensor([C])];
        await runAll(
          e,
          await batchNormBackward(e, t.xt, dyt, t.mean, t.invStd, dx, dbeta, scratch, { channels: C, accumulate }),
        );
        const refDx = accumulate ? ref.dx.map((v, i) => v + dx0[i]) : ref.dx;
        const refDb = accumulate ? ref.dbeta.map((v, c) => v + db0[c]) : ref.dbeta;
        expectClose(await e.read(dx), refDx, 1e-5, 1e-5, `dx ${what}, accumulate ${accumulate}`);
        expectClose(await e.read(dbeta), refDb, 1e-5, dbetaAtol, `dbeta ${what}, accumulate ${accumulate}`);
        for (const u of [dx, dbeta]) u.release();
      }
      for (const u of [...Object.values(t), dyt, scratch]) u.release();
    }
  });

  it('the backward reference is the derivative of the training forward (central differences, float64)', () => {
    const r = rng(26);
    for (const [rows, C] of [
      [7, 1],
      [6, 3],
    ]) {
      const x = Float64Array.from(activations(r, rows, C));
      const beta = Float64Array.from(r.fill(C));
      const dy = Float64Array.from(r.fill(rows * C));
      const loss = (xv: Float64Array, b: Float64Array) =>
        batchNormTrainReference(xv, b, C).y.reduce((s, v, i) => s + v * dy[i], 0);
      const h = 1e-5;
      const numeric = (v: Float64Array, i: number, f: () => number) => {
        const keep = v[i];
        v[i] = keep + h;
        const up = f();
        v[i] = keep - h;
        const down = f();
        v[i] = keep;
        return (up - down) / (2 * h);
      };
      const ref = batchNormBackwardReference(x, dy, C);
      const fdDx = Float64Array.from(x, (_, i) => numeric(x, i, () => loss(x, beta)));
      const fdDb = Float64Array.from(beta, (_, c) => numeric(beta, c, () => loss(x, beta)));
      expectClose(ref.dx, fdDx, 1e-6, 1e-8, `dx [${rows}, ${C}]`);
      expectClose(ref.dbeta, fdDb, 1e-6, 1e-8, `dbeta [${rows}, ${C}]`);
    }
  });

  it('wrong shapes are refused with the name of the tensor', async () => {
    const e = await testEngine();
    const x = e.tensor([10, 8]);
    const c8 = e.tensor([8]);
    const c4 = e.tensor([4]);
    await expect(batchNormTrain(e, x, c8, e.tensor([10, 8]), c8, c4, { channels: 8 })).rejects.toThrow(
      /batchNormTrain: invStd has 4 elements/,
    );
    await expect(batchNormTrain(e, x, c8, x, c8, c8, { channels: 8 })).rejects.toThrow(/y overlaps x/);
    await expect(batchNormTrain(e, x, c8, e.tensor([10, 8]), c8, c8, { channels: 3 })).rejects.toThrow(
      /not a positive number of rows of 3/,
    );
    await expect(
      batchNormBackward(e, x, x, c8, c8, e.tensor([10, 8]), c8, e.tensor([2]), { channels: 8, accumulate: false }),
    ).rejects.toThrow(/scratch holds 2 floats, needs/);
    await expect(batchNormMovingUpdate(e, c8, c8, c4, c8)).rejects.toThrow(/movingMean has 4 elements/);
    for (const u of [x, c8, c4]) u.release();
  });
});
