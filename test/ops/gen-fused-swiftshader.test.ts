// The fused generation path on SwiftShader (its own file: one Vulkan driver per process): its f32 and
// f16 kernels teacher-forced against the decoder as in gen-fused.test.ts, in the shape with 8 voices
// per workgroup, over one frame: SwiftShader runs a fused step ~5x slower than a layered one (its
// workgroup barriers and memory), so the other shapes and the frame boundary are left to lavapipe.
import * as fs from 'node:fs';
import { describe, it } from 'vitest';
import { createEngine } from '../../src/gpu/engine.js';
import { everyShapeMatches } from '../generate-helpers.js';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('fused generation path on SwiftShader', () => {
  it('tiny, f32 weights within 1e-4 and f16 within 2e-2, 2 voices, 512 steps', { timeout: 600_000 }, async (ctx) => {
    if (!fs.existsSync(SWIFTSHADER)) ctx.skip('SwiftShader (Debian chromium) is not installed');
    const e = await createEngine({ adapter: 'swiftshader' });
    try {
      const t0 = performance.now();
      await everyShapeMatches(e, [{ C4: 8, KS: 8, VT: 8 }], 2, 512);
      console.log(`SwiftShader: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    } finally {
      e.destroy();
    }
  });
});
