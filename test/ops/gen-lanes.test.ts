// The layered path's subgroup-lanes step-start, gate and res/skip kernels
// (kernels/gen_step_start_lanes.wgsl, gen_gate_lanes.wgsl, gen_res_skip_lanes.wgsl): which
// adapters run them, and, teacher-forced with seeded random models, that they give the decoder's logits (within the path's 1e-4) and the tiled kernels' (the same
// sums in the same order: bit-identical on lavapipe; 1e-6 allowed for another compiler's
// contractions) for a full voice tile plus a lone voice (17 voices: groups of 16 and 1) and for
// small widths, whose workgroups have idle lanes (tiny: 8 gate and 8 res/skip threads; h32_pitch,
// the default model's config: 8 and 12, in 8-lane workgroups).
import { describe, it, expect } from 'vitest';
import { testEngine, expectClose } from '../helpers.js';
import { layeredTeacherForcing } from './gen-lanes-helpers.js';
import { modelFromWeights } from '../../src/nsynth.js';
import { lanesOf, lanesSupported } from '../../src/gpu/lanes.js';
import { getConfig } from '../../src/model/config.js';
import { initWeights } from '../../src/model/weights.js';
import { choosePath, layeredKernels } from '../../src/generate/route.js';
import {
  genGate,
  genResSkip,
  genStepStart,
  type GenStepParams,
  lanesWorkgroup,
  stepStartLanesThreads,
  stepStartLanesWorkgroup,
} from '../../src/ops/gen-step.js';
import { destroyDispatches } from '../../src/gpu/registry.js';

describe('layered kernels: the rule', () => {
  it('lanes where the lanes kernels are preferred, for 2+ voices and widths divisible by 8, else tiles', () => {
    const preferred = { preferred: true };
    expect(layeredKernels(512, 256, preferred)).toBe('lanes');
    expect(layeredKernels(32, 64, preferred)).toBe('lanes');
    expect(layeredKernels(36, 64, preferred)).toBe('tiles');
    expect(layeredKernels(32, 68, preferred)).toBe('tiles');
    expect(layeredKernels(512, 256, { preferred: false })).toBe('tiles');
  });

  it('workgroups of whole 8-lane subgroups, up to 64 threads, about 4 of them', () => {
    expect([8, 12, 96, 128, 256, 1024].map(lanesWorkgroup)).toEqual([8, 8, 24, 32, 64, 64]);
  });

  it("the lanes step start's workgroups divide a layer's threads (whole groups of 8), so each holds one layer", () => {
    // residual widths 32, 40, 96, 192, 384, 512: R/4 outputs of 8 rounded up to groups of 8
    expect([32, 40, 96, 192, 384, 512].map(stepStartLanesThreads)).toEqual([8, 16, 24, 48, 96, 128]);
    expect([8, 16, 24, 48, 96, 128].map(stepStartLanesWorkgroup)).toEqual([8, 16, 8, 16, 32, 64]);
  });

  it('auto runs h512_bo16 at batch 16 and 32 on the layered path, whose dispatches are the lanes kernels where lanes are preferred', async () => {
    const e = await testEngine();
    const c = getConfig('h512_bo16');
    for (const B of [16, 32]) expect(choosePath(c, 'auto', B, lanesOf(e))).toBe('layered');
    // the dispatches genStepStart / genGate / genResSkip build for an instance of 10 voices at R 512, S 256
    const R = 512;
    const S = 256;
    const B = 10;
    const at = {
      startW: 0,
      startB: 0,
      skipStartW: 0,
      skipStartB: 0,
      resSkipB: 0,
      out1W: 0,
      logitsW: 0,
      logitsB: 0,
      skipFoldW: 0,
      skipFoldB: 0,
    };
    const p: GenStepParams = {
      ...{ B, R, S, L: 30, layersPerStage: 10, frames: 1, hop: 512, groups: [{ first: 0, count: 30 }] },
      ...{ temperature: 1, teacher: false, recordLogits: false, at },
    };
    const buf = () => e.tensor([64]);
    const owned = [buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf(), buf()];
    const [state, hist, past, lAndS, gated, cond, classes, teacher, stepLogits, wPast, wCur, wResSkip, small] =
      owned.map((t) => t.buffer);
    const s = { state, hist: [hist], past, lAndS, gated, cond: [cond], classes, teacher, stepLogits };
    const w = { wPast, wCur, wResSkip, small };
    const lanes = layeredKernels(R, S, lanesOf(e)) === 'lanes';
    expect(lanes).toBe(lanesOf(e).preferred);
    const [start] = await genStepStart(e, p, w, s);
    const [startF16] = await genStepStart(e, p, w, s, 'f16');
    const gate = await genGate(e, p, 0, w, s);
    const resSkip = await genResSkip(e, p, 0, w, s);
    // the step start: lanes or not, with f32 or f16 past taps; all in workgroups of 64, over
    // 30 x 128 past-tap threads (8 outputs each) in the lanes kernels, else 30 x 256, and 192 start threads
    // (the lanes step start in workgroups of 64, each of one layer's 128 threads)
    expect(start.kernel.name).toBe(lanes ? 'gen_step_start_lanes(WG=64)' : 'gen_step_start');
    expect(startF16.kernel.name).toBe(lanes ? 'gen_step_start_lanes_f16(WG=64)' : 'gen_step_start_f16');
    expect(start.workgroups).toEqual([lanes ? 63 : 123, 1, 1]);
    expect(gate.kernel.name).toBe(lanes ? 'gen_gate_lanes(WG=32)' : 'gen_gate');
    expect(resSkip.kernel.name).toBe(lanes ? 'gen_res_skip_lanes(WG=24)' : 'gen_res_skip');
    // one voice group: lanes, 128 gate threads in 4 x 32 and 96 res/skip threads (two outputs each)
    // in 4 x 24; tiles, 128 and 192 threads in workgroups of 64
    expect([gate.workgroups, resSkip.workgroups]).toEqual(
      lanes
        ? [
            [4, 1, 1],
            [4, 1, 1],
          ]
        : [
            [2, 1, 1],
            [3, 1, 1],
          ],
    );
    destroyDispatches([start, startF16, gate, resSkip]);
    for (const t of owned) t.release();
  });
});

describe('layered lanes kernels, teacher-forced, equal the decoder and the tiled kernels', () => {
  // tiny at residual width 40 and skip 48: 10 outputs of 8 a layer in the lanes step start, no
  // whole number of 8-lane groups (its layers padded to 16 threads; packed, two layers' histories
  // once met in one group and voice 0's logits were 1.0 off)
  const tiny = getConfig('tiny');
  const tiny40 = { ...tiny, name: 'tiny_40', decoder: { ...tiny.decoder, residual: 40, skip: 48 } };
  // [config, voices, steps, the lanes kernels' workgroup sizes (step start, gate, res/skip)]; the
  // step start's workgroups each hold one layer's threads: 8 at residual width 32, 16 at 40
  const cases = [
    ['tiny', 17, 512, [8, 8, 8]],
    ['h32_pitch', 5, 512, [8, 8, 8]],
    [tiny40, 3, 512, [16, lanesWorkgroup(40 / 4), lanesWorkgroup((40 + 48) / 4 / 2)]],
  ] as const;
  for (const [config, voices, T, [wgStart, wgGate, wgResSkip]] of cases)
    it(`${typeof config === 'string' ? config : config.name}, ${voices} voices, ${T} steps: every step within 1e-4 of the decoder, lanes within 1e-6 of tiles`, async (ctx) => {
      const e = await testEngine();
      if (!lanesSupported(e)) ctx.skip('the adapter has no subgroups of 8+ lanes');
      const c = typeof config === 'string' ? getConfig(config) : config;
      const model = await modelFromWeights(e, initWeights(c, 61, { biasScale: 0.1 }));
      const pitch = c.pitchConditioning ? { pitch: 60 } : {};
      const { full, run } = await layeredTeacherForcing(model, voices, T, 70, pitch);
      const tiles = await run('tiles');
      const lanes = await run('lanes');
      // both sets ran (the registry compiles each kernel once per set of override constants)
      expect(e.registry.names()).toEqual(
        expect.arrayContaining([
          'gen_step_start',
          'gen_gate',
          'gen_res_skip',
          `gen_step_start_lanes(WG=${wgStart})`,
          `gen_gate_lanes(WG=${wgGate})`,
          `gen_res_skip_lanes(WG=${wgResSkip})`,
        ]),
      );
      for (let b = 0; b < voices; b++) {
        const want = full.subarray(b * T * 256, (b + 1) * T * 256);
        expectClose(lanes[0].logits![b], want, 1e-4, 1e-4, `lanes, voice ${b} logits`);
        expectClose(tiles[0].logits![b], want, 1e-4, 1e-4, `tiles, voice ${b} logits`);
        expectClose(lanes[0].logits![b], tiles[0].logits![b], 1e-6, 1e-6, `lanes against tiles, voice ${b} logits`);
      }
      model.dispose();
    });
});

describe('a lone voice on the layered path where lanes are preferred', () => {
  // a lone voice runs the lanes kernels' straight-line paths (16-byte weight reads: the gate 16
  // outputs a thread, res/skip 8), f32 and f16, against the decoder and the tiled kernels
  for (const weightStorage of ['f32', 'f16'] as const)
    it(`tiny, 1 voice, 512 steps, ${weightStorage} weights: within 1e-4 of the decoder (f16: 2e-2) and 1e-6 of the tiled kernels`, async (ctx) => {
      const e = await testEngine();
      if (!lanesSupported(e)) ctx.skip('the adapter has no subgroups of 8+ lanes');
      const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 63, { biasScale: 0.1 }));
      const { full, run } = await layeredTeacherForcing(model, 1, 512, 80);
      const tiles = await run('tiles', weightStorage);
      const lanes = await run('lanes', weightStorage);
      // tiny's gate: 32 / 8 = 4 threads of 16 outputs, in one workgroup of 8; res/skip 8 threads
      const f16 = weightStorage === 'f16' ? '_f16' : '';
      expect(e.registry.names()).toEqual(
        expect.arrayContaining([
          `gen_step_start_lanes${f16}(WG=8)`,
          `gen_gate_lanes${f16}(WG=8)`,
          `gen_res_skip_lanes${f16}(WG=8)`,
        ]),
      );
      const tol = weightStorage === 'f16' ? 2e-2 : 1e-4;
      expectClose(lanes[0].logits![0], full, tol, tol, 'lanes, logits');
      expectClose(lanes[0].logits![0], tiles[0].logits![0], 1e-6, 1e-6, 'against the tiled kernels');
      model.dispose();
    });
});

describe('layered path, matrices as f16 pairs (weightStorage f16)', () => {
  it('tiny, 17 voices: the lanes and the tiles kernels read every matrix as f16 pairs; every step within 2e-2 of the decoder', async (ctx) => {
    const e = await testEngine();
    if (!lanesSupported(e)) ctx.skip('the adapter has no subgroups of 8+ lanes');
    const T = 512;
    const voices = 17;
    // weights that are not exact halves: the f16 pairs round them
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 62, { biasScale: 0.1 }));
    const { full, run } = await layeredTeacherForcing(model, voices, T, 90);
    const f32 = await run('lanes', 'f32');
    for (const kernels of ['lanes', 'tiles'] as const) {
      const f16 = await run(kernels, 'f16');
      let moved = 0;
      for (let b = 0; b < voices; b++) {
        const want = full.subarray(b * T * 256, (b + 1) * T * 256);
        expectClose(f16[0].logits![b], want, 2e-2, 2e-2, `${kernels}, voice ${b} logits`);
        for (let i = 0; i < want.length; i++)
          moved = Math.max(moved, Math.abs(f16[0].logits![b][i] - f32[0].logits![b][i]));
      }
      // the rounding shows: the f16 kernel ran, not the f32 one
      expect(moved).toBeGreaterThan(1e-6);
    }
    expect(e.registry.names()).toEqual(
      expect.arrayContaining([
        'gen_step_start_lanes_f16(WG=8)',
        'gen_gate_lanes_f16(WG=8)',
        'gen_res_skip_lanes_f16(WG=8)',
        'gen_step_start_f16',
        'gen_gate_f16',
        'gen_res_skip_f16',
      ]),
    );
    model.dispose();
  });
});
