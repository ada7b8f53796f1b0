// kernels/embedding_gather.wgsl and embedding_scatter_add.wgsl against the references in
// src/ops/pitch-embedding.ts: repeated pitches add in the backward, an out-of-range pitch is a zero
// row; the backward reference against central finite differences.
import { describe, expect, it } from 'vitest';
import { testEngine, rng, runAll, expectClose } from '../helpers.js';
import {
  pitchEmbedding,
  pitchEmbeddingBackward,
  pitchEmbeddingBackwardReference,
  pitchEmbeddingReference,
} from '../../src/ops/pitch-embedding.js';

/** [classes, dims, pitches]: Magenta's 128 x 128 with repeats and one pitch past the table; narrow tables. */
const CASES: [number, number, number[]][] = [
  [128, 128, [60, 60, 3, 127, 60, 3, 0, 200]],
  [5, 1, [4, 4, 4, 0]],
  [3, 8, [2]],
];

describe('pitch embedding', () => {
  it('gather: out[b] = table[pitch[b]] (zeros for a pitch past the table)', async () => {
    const e = await testEngine();
    const r = rng(51);
    for (const [P, D, pitches] of CASES) {
      const table = r.fill(P * D);
      const [tt, pt] = [e.upload(table, [P, D]), e.upload(Uint32Array.from(pitches))];
      const out = e.tensor([pitches.length, D]);
      await runAll(e, [await pitchEmbedding(e, tt, pt, out, { classes: P, dims: D })]);
      const got = await e.read(out);
      expectClose(got, pitchEmbeddingReference(table, pitches, D), 0, 0, `[${P}, ${D}]`);
      if (pitches.includes(200)) expect(got.subarray(7 * D, 8 * D).every((v) => v === 0)).toBe(true);
      for (const t of [tt, pt, out]) t.release();
    }
  });

  it('backward: repeated pitches add, writing and accumulating', async () => {
    const e = await testEngine();
    const r = rng(52);
    for (const [P, D, pitches] of CASES) {
      const B = pitches.length;
      const dout = r.fill(B * D);
      const [pt, dt] = [e.upload(Uint32Array.from(pitches)), e.upload(dout, [B, D])];
      const ref = pitchEmbeddingBackwardReference(pitches, dout, P, D);
      for (const accumulate of [false, true]) {
        const d0 = r.fill(P * D);
        const dtable = accumulate ? e.upload(d0, [P, D]) : e.tensor([P, D]);
        await runAll(e, [await pitchEmbeddingBackward(e, pt, dt, dtable, { classes: P, dims: D, accumulate })]);
        expectClose(
          await e.read(dtable),
          accumulate ? ref.map((v, i) => v + d0[i]) : ref,
          1e-6,
          1e-7,
          `[${P}, ${D}], accumulate ${accumulate}`,
        );
        dtable.release();
      }
      for (const t of [pt, dt]) t.release();
    }
    // The repeat itself: pitch 60 three times in the first case.
    const dout = Float64Array.from({ length: 8 * 2 }, (_, i) => i);
    const ref = pitchEmbeddingBackwardReference([60, 60, 3, 127, 60, 3, 0, 200], dout, 128, 2);
    expect([ref[120], ref[121]]).toEqual([0 + 2 + 8, 1 + 3 + 9]);
  });

  it('the backward reference is the derivative of the gather (central differences, float64)', () => {
    const r = rng(53);
    const [P, D, pitches] = [6, 3, [5, 1, 5, 5, 0, 9]];
    const table = Float64Array.from(r.fill(P * D));
    const dout = Float64Array.from(r.fill(pitches.length * D));
    const loss = () => pitchEmbeddingReference(table, pitches, D).reduce((s, v, i) => s + v * dout[i], 0);
    const h = 1e-6;
    const fd = Float64Array.from(table, (v, i) => {
      table[i] = v + h;
      const up = loss();
      table[i] = v - h;
      const down = loss();
      table[i] = v;
      return (up - down) / (2 * h);
    });
    expectClose(pitchEmbeddingBackwardReference(pitches, dout, P, D), fd, 1e-8, 1e-9);
  });

  it('wrong shapes are refused with the name of the tensor', async () => {
    const e = await testEngine();
    const pt = e.upload(Uint32Array.of(1, 2));
    await expect(pitchEmbedding(e, e.tensor([4, 3]), pt, e.tensor([2, 3]), { classes: 4, dims: 4 })).rejects.toThrow(
      /pitchEmbedding: table has 12 elements/,
    );
    await expect(pitchEmbedding(e, e.tensor([4, 4]), pt, e.tensor([3, 4]), { classes: 4, dims: 4 })).rejects.toThrow(
      /out has 12 elements/,
    );
    await expect(
      pitchEmbeddingBackward(e, pt, e.tensor([2, 4]), e.tensor([4, 3]), { classes: 4, dims: 4, accumulate: false }),
    ).rejects.toThrow(/dtable has 12 elements/);
  });
});
