// The generation step kernels (kernels/gen_*.wgsl, src/ops/gen-step.ts) against their reference, the
// teacher-forced decoder: fed the true classes, every step's logits equal the full-sequence decoder's
// (itself checked against the graph's float64 evaluation), on every path, voice-lanes with its
// weights in f32 and, for a model stored in f16, as f16 pairs, the layered path with both of
// its sets of step-start, gate and res/skip kernels, past taps in f32 and f16 (tiles, and the subgroup-lanes ones that CPU
// adapters run; test/ops/gen-lanes.test.ts checks more voices and widths), and the voice loop with
// both of its kernels (serial for CPU adapters, wide for GPUs).
import { describe, it, expect } from 'vitest';
import { testEngine, expectClose } from '../helpers.js';
import { collect, expectSameDraws, note } from '../generate-helpers.js';
import { modelFromWeights } from '../../src/nsynth.js';
import { lanesSupported } from '../../src/gpu/lanes.js';
import { withKernels } from './gen-lanes-helpers.js';
import { getConfig } from '../../src/model/config.js';
import { initWeights, type Weights } from '../../src/model/weights.js';
import { fromHalf, toHalf } from '../../src/formats/half.js';
import { muLawQuantizeArray } from '../../src/ops/mu-law.js';
import { skipStartFolded } from '../../src/generate/gen-weights.js';

/** Every weight rounded to f16, as a model stored in f16 (the shipped one) loads. */
function roundedToHalf(w: Weights): Weights {
  for (const t of w.tensors.values()) t.data.set(Float32Array.from(t.data, (v) => fromHalf(toHalf(v))));
  return w;
}

describe('fast generator, teacher-forced, equals the full-sequence decoder', () => {
  // [path, weight storage, the layered path's or the voice loop's kernels (forced while the instance is built)]
  const cases = [
    ['layered', 'f32', 'tiles'],
    ['layered', 'f32', 'lanes'],
    // past taps as f16 pairs, of a model stored in f16 (so the same values)
    ['layered', 'f16', 'tiles'],
    ['layered', 'f16', 'lanes'],
    ['voice-loop', 'f32', 'serial'],
    ['voice-loop', 'f32', 'wide'],
    ['voice-lanes', 'f32', null],
    ['voice-lanes', 'f16', null],
  ] as const;
  for (const [path, storage, kernels] of cases)
    it(`tiny, ${path} path${kernels ? ` (${kernels} kernels)` : ''}, ${storage} weights, 2 voices of different notes, every step within 1e-4`, async (ctx) => {
      const e = await testEngine();
      if ((path === 'voice-lanes' || kernels === 'lanes') && !lanesSupported(e))
        ctx.skip('the adapter has no subgroups of 8+ lanes');
      const w = initWeights(getConfig('tiny'), 41, { biasScale: 0.1 });
      const model = await modelFromWeights(e, storage === 'f16' ? roundedToHalf(w) : w);
      // voice-lanes reads f16 pairs exactly when every weight is an f16
      expect(model.generatorResources().gen.allF16 !== null).toBe(storage === 'f16');
      const T = 1024;
      const notes = [note(1, T), note(2, T)];
      const emb = await model.encode(notes);
      const full = await model.teacherForcedLogits(notes, emb);
      const teacher = notes.map((n) => muLawQuantizeArray(n).classes);
      const chunks = await withKernels(kernels, () =>
        collect(
          model.stream(emb, {
            teacher,
            recordLogits: true,
            chunkSize: 300,
            firstChunkSize: 100,
            path,
            ...(path === 'layered' ? { weightStorage: storage } : {}),
          }),
        ),
      );
      expect(chunks.map((c) => [c.start, c.end])).toEqual([
        [0, 100],
        [100, 400],
        [400, 700],
        [700, 1000],
        [1000, 1024],
      ]);
      if (path === 'layered' && storage === 'f16')
        // the f16 pairs ran
        expect(e.registry.names()).toEqual(
          expect.arrayContaining(
            kernels === 'lanes'
              ? ['gen_step_start_lanes_f16(WG=8)', 'gen_gate_lanes_f16(WG=8)', 'gen_res_skip_lanes_f16(WG=8)']
              : ['gen_step_start_f16', 'gen_gate_f16', 'gen_res_skip_f16'],
          ),
        );
      for (let b = 0; b < 2; b++) {
        const got = new Float32Array(T * 256);
        for (const c of chunks) got.set(c.logits![b], c.start * 256);
        expectClose(got, full.data.subarray(b * T * 256, (b + 1) * T * 256), 1e-4, 1e-4, `voice ${b} logits`);
      }
      model.dispose();
    });

  // Both voice-loop kernels at other widths. gen_voice_loop_wide splits each product's reduction
  // across its 256 threads: N outputs in blocks of NP (N rounded up to a power of two, at most 256),
  // each summed by 256 / NP threads. These widths give blocks with idle outputs (2R = 48 in 64),
  // several blocks per product (2R = 320, R + S = 360), and a single thread per output (S = 200).
  for (const kernel of ['serial', 'wide'] as const)
    for (const [R, S] of [
      [24, 40],
      [160, 200],
    ] as const)
      it(`voice-loop path (${kernel} kernel), residual ${R} and skip ${S}, every step within 1e-4`, async () => {
        const e = await testEngine();
        const base = getConfig('tiny');
        // (four layers: the widths are the point, and lavapipe takes seconds a layer at 160 / 200)
        const decoder = { ...base.decoder, residual: R, skip: S, stages: 1, layersPerStage: 4 };
        const config = { ...base, name: `voice-loop-${R}-${S}`, decoder };
        const model = await modelFromWeights(e, initWeights(config, 43, { biasScale: 0.1 }));
        const T = 512;
        const notes = [note(3, T)];
        const emb = await model.encode(notes);
        const full = await model.teacherForcedLogits(notes, emb);
        const teacher = notes.map((n) => muLawQuantizeArray(n).classes);
        const chunks = await withKernels(kernel, () =>
          collect(
            model.stream(emb, { teacher, recordLogits: true, chunkSize: 200, firstChunkSize: 100, path: 'voice-loop' }),
          ),
        );
        const got = new Float32Array(T * 256);
        for (const c of chunks) got.set(c.logits![0], c.start * 256);
        expectClose(got, full.data, 1e-4, 1e-4, `R ${R} S ${S} logits`);
        model.dispose();
      });

  it('every path samples the same audio with the same seed; voice-lanes at temperature 0 is argmax', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 45, { biasScale: 0.1 }));
    const emb = await model.encode([note(7, 1024), note(8, 1024), note(9, 1024)]);
    const a = await collect(
      model.stream(emb, { seed: 5, path: 'layered', weightStorage: 'f32', recordLogits: true, firstChunkSize: 1024 }),
    );
    const b = await collect(model.stream(emb, { seed: 5, path: 'voice-loop', firstChunkSize: 1024 }));
    for (let v = 0; v < 3; v++) expectSameDraws(a[0].classes[v], b[0].classes[v], a[0].logits![v], 5, v, 1024);
    if (lanesSupported(e)) {
      const c = await collect(model.stream(emb, { seed: 5, path: 'voice-lanes', firstChunkSize: 1024 }));
      for (let v = 0; v < 3; v++) expectSameDraws(a[0].classes[v], c[0].classes[v], a[0].logits![v], 5, v, 1024);
      const greedy = await collect(
        model.stream(emb, { temperature: 0, path: 'voice-lanes', recordLogits: true, firstChunkSize: 1024 }),
      );
      for (let t = 0; t < 1024; t++) {
        const row = greedy[0].logits![0].subarray(t * 256, (t + 1) * 256);
        const best = row.indexOf(Math.max(...row));
        expect(greedy[0].classes[0][t], `argmax at step ${t}`).toBe(best);
      }
    }
    model.dispose();
  });
});

describe('skip_start folded into the start conv (the step start reads it so)', () => {
  it('equals skip_start(startconv(x)) on random weights and samples, in float64', () => {
    const R = 24;
    const S = 16;
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 1073741824 - 1;
    };
    const fill = (n: number) => Float32Array.from({ length: n }, rand);
    const startW = fill(3 * R); // [3][R]: taps on x[t-3], x[t-2], x[t-1]
    const startB = fill(R);
    const skipW = fill(R * S); // [R][S]
    const skipB = fill(S);
    const { weights: foldW, biases: foldB } = skipStartFolded(startW, startB, skipW, skipB, R, S);
    for (let trial = 0; trial < 5; trial++) {
      const x = [rand(), rand(), rand()]; // x[t-3], x[t-2], x[t-1]
      const l = Array.from({ length: R }, (_, c) => startB[c] + x.reduce((a, xj, j) => a + startW[j * R + c] * xj, 0));
      for (let o = 0; o < S; o++) {
        const direct = l.reduce((a, lc, c) => a + lc * skipW[c * S + o], skipB[o]);
        const folded = foldB[o] + x.reduce((a, xj, j) => a + foldW[j * S + o] * xj, 0);
        // the folded weights are rounded to f32 once; the direct sum is exact float64
        expect(Math.abs(folded - direct)).toBeLessThan(1e-5 * (1 + Math.abs(direct)));
      }
    }
  });
});
