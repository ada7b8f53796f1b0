// The layered generation path on SwiftShader (its own file: one Vulkan driver per process), the
// second software adapter, as gen-step.test.ts and gen-lanes.test.ts check it on lavapipe.
// SwiftShader has no subgroups of 8 lanes, so it runs the tiles kernels: teacher-forced against the
// decoder with f32 weights (within 1e-4) and in f16 storage (its matrices as f16 pairs, within
// 2e-2), and with its layers split into groups (the same audio as in one binding).
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/gpu/engine.js';
import { lanesOf } from '../../src/gpu/lanes.js';
import { layerGroups } from '../../src/generate/instance.js';
import { getConfig } from '../../src/model/config.js';
import { initWeights } from '../../src/model/weights.js';
import { modelFromWeights } from '../../src/nsynth.js';
import { compareTeacherForced, note, teacherForcedRun } from '../generate-helpers.js';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('layered generation path on SwiftShader', () => {
  it('tiny, 3 voices, 512 steps: f32 within 1e-4, f16 storage within 2e-2; layer groups give the same audio', {
    timeout: 600_000,
  }, async (ctx) => {
    if (!fs.existsSync(SWIFTSHADER)) ctx.skip('SwiftShader (Debian chromium) is not installed');
    const e = await createEngine({ adapter: 'swiftshader' });
    try {
      expect(lanesOf(e).preferred).toBe(false); // the tiles kernels are the ones under test here
      const r = await teacherForcedRun(
        e,
        'tiny',
        53,
        [
          { path: 'layered', weightStorage: 'f32' },
          { path: 'layered', weightStorage: 'f16' },
        ],
        512,
      );
      compareTeacherForced(r, 0, 1e-4);
      const worst = compareTeacherForced(r, 1, 2e-2);
      expect(worst).toBeGreaterThan(1e-6); // the f16 pairs ran: their rounding shows
      expect(e.registry.names()).toEqual(
        expect.arrayContaining(['gen_step_start', 'gen_step_start_f16', 'gen_gate_f16', 'gen_res_skip_f16']),
      );

      const c = getConfig('tiny');
      const model = await modelFromWeights(e, initWeights(c, 54, { biasScale: 0.1 }));
      const emb = await model.encode([note(40, 1024), note(41, 1024), note(42, 1024)]);
      const maxBindingBytes = 16 * 1024; // tiny's 3 voices in groups of layers
      expect(layerGroups(c, 3, 2, maxBindingBytes).length).toBeGreaterThan(2);
      const whole = await model.generate(emb, { seed: 5, path: 'layered', weightStorage: 'f32' });
      const split = await model.generate(emb, { seed: 5, path: 'layered', weightStorage: 'f32', maxBindingBytes });
      expect(split).toEqual(whole);
      model.dispose();
    } finally {
      e.destroy();
    }
  });
});
