// The fused generation path (kernels/lib_gen_layer_fused.wgsl, gen_head_fused.wgsl; one dispatch
// per layer, each layer's residual folded into the next layer's tap) against its reference, the
// teacher-forced decoder: fed the true classes, every step's logits equal the full-sequence
// decoder's. Every workgroup shape the tuner may choose, on lavapipe (and SwiftShader: gen-fused-swiftshader.test.ts), with f32 weights within 1e-4 (the fold's products are rounded once more than the
// decoder's own sums) and with f16 storage within the rounding of the weights to halves.
import { describe, it, expect } from 'vitest';
import { testEngine } from '../helpers.js';
import {
  collect,
  compareTeacherForced,
  everyShapeMatches,
  expectSameDraws,
  note,
  teacherForcedRun,
} from '../generate-helpers.js';
import { modelFromWeights } from '../../src/nsynth.js';
import { getConfig } from '../../src/model/config.js';
import { initWeights } from '../../src/model/weights.js';
import { dispatchesPerStep } from '../../src/generate/route.js';
import { GPU_FUSED_SHAPES } from '../../src/generate/tuning.js';

describe('fused generation path, teacher-forced, equals the full-sequence decoder', () => {
  it('lavapipe: tiny, every tuned shape, f32 weights within 1e-4 and f16 within 2e-2, 3 voices', async () => {
    await everyShapeMatches(await testEngine());
  });

  it('lavapipe: tiny, the GPU-only shapes (128-256 threads a workgroup), one frame, 3 voices', async () => {
    // (one frame: lavapipe runs these wide workgroups slowly, and the shapes are what is checked)
    await everyShapeMatches(await testEngine(), GPU_FUSED_SHAPES, 3, 512);
  });

  it('lavapipe: tiny, the rows layout with short rows of threads (several vec4s a thread, voice tiles of 2 and 4), 3 voices', async () => {
    // The GPU shapes' rows have 16-64 threads, more than tiny's 8 vec4s a half row: these make
    // each thread read several, and tile 2 and 4 voices (the last tile part full). (f16 storage in
    // this layout: the h32_pitch case below.)
    await everyShapeMatches(
      await testEngine(),
      [
        { C4: 1, KS: 4, VT: 1, layout: 'rows' },
        { C4: 2, KS: 2, VT: 2, layout: 'rows' },
        { C4: 8, KS: 4, VT: 4, layout: 'rows' },
      ],
      3,
      512,
      false,
    );
  });

  it('pitch-conditioned h32_pitch (skip wider than residual), f32 and f16 storage', async () => {
    const e = await testEngine();
    // f16 storage rounds every weight (and the folded products) to 11 significant bits
    const r = await teacherForcedRun(
      e,
      'h32_pitch',
      52,
      [
        { path: 'fused', weightStorage: 'f32', fusedShape: { C4: 2, KS: 32, VT: 2 } },
        { path: 'fused', weightStorage: 'f16' },
        { path: 'fused', weightStorage: 'f32', fusedShape: { C4: 2, KS: 4, VT: 2, layout: 'rows' } },
        { path: 'fused', weightStorage: 'f16', fusedShape: { C4: 1, KS: 8, VT: 1, layout: 'rows' } },
      ],
      1024,
      2,
    );
    compareTeacherForced(r, 0, 1e-4);
    const worst = compareTeacherForced(r, 1, 2e-2);
    expect(worst).toBeGreaterThan(0); // f16 really was used
    compareTeacherForced(r, 2, 1e-4);
    expect(compareTeacherForced(r, 3, 2e-2)).toBeGreaterThan(0);
  });

  it('the rows layout with rows of 12 vec4s over 8 threads (a part-full last pass, as h96_pitch on a GPU), f32 and f16 with a voice tile', async () => {
    // tiny at residual and skip width 48: R/4 = 12 is no power of two, as h96_pitch's 24
    const tiny = getConfig('tiny');
    const c = { ...tiny, name: 'tiny_48', decoder: { ...tiny.decoder, residual: 48, skip: 48 } };
    const r = await teacherForcedRun(
      await testEngine(),
      c,
      54,
      [
        { path: 'fused', weightStorage: 'f32', fusedShape: { C4: 4, KS: 8, VT: 1, layout: 'rows' } },
        { path: 'fused', weightStorage: 'f16', fusedShape: { C4: 2, KS: 8, VT: 2, layout: 'rows' } },
      ],
      512,
      3,
    );
    compareTeacherForced(r, 0, 1e-4);
    expect(compareTeacherForced(r, 1, 2e-2)).toBeGreaterThan(0);
  });

  it('L + 2 dispatches per step; samples the same audio as the layered path with the same seed', async () => {
    const e = await testEngine();
    const c = getConfig('tiny');
    expect(dispatchesPerStep(c, 'fused')).toBe(c.decoder.stages * c.decoder.layersPerStage + 2);
    const model = await modelFromWeights(e, initWeights(c, 53, { biasScale: 0.1 }));
    const emb = await model.encode([note(1, 1024), note(2, 1024)]);
    const a = await collect(
      model.stream(emb, { seed: 9, path: 'layered', weightStorage: 'f32', recordLogits: true, firstChunkSize: 1024 }),
    );
    const b = await collect(model.stream(emb, { seed: 9, path: 'fused', weightStorage: 'f32', firstChunkSize: 1024 }));
    for (let v = 0; v < 2; v++) expectSameDraws(a[0].classes[v], b[0].classes[v], a[0].logits![v], 9, v, 1024);
    model.dispose();
  });
});
