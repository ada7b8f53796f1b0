// `nsynth bench generate --browser` (src/bench/browser.ts): the benchmark runs in headless Chromium
// (WebGPU on SwiftShader) and hands back Node's row shape, and the page's fast generator is the one
// Node runs: a seeded voice comes out sample for sample the same.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHROMIUM, generateInBrowser, runGenerateBenchInBrowser } from '../src/bench/browser.js';
import { randomModel } from '../src/nsynth.js';
import { Rng } from '../src/util/rng.js';
import { testEngine } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM;
const BUNDLE = path.resolve(__dirname, '..', 'dist/browser/bench.js');
const missing = [CHROMIUM, BUNDLE].filter((f) => !fs.existsSync(f));
const skipWhy =
  missing.length > 0
    ? `bench --browser test skipped: ${missing.join(' and ')} missing (apt-get install chromium; node tools/build-browser.js)`
    : '';

describe('bench generate --browser', () => {
  it('returns finite rows of Node’s shape from Chromium, naming SwiftShader and Chrome', async (ctx) => {
    if (skipWhy) {
      console.warn(skipWhy);
      ctx.skip();
    }
    const rows = await runGenerateBenchInBrowser({ config: 'tiny', batches: [1, 2], seconds: 0.05, naiveSteps: 2 });
    expect(rows.map((r) => r.batch)).toEqual([1, 2]);
    for (const r of rows) {
      expect(r.config).toBe('tiny');
      expect(r.adapter).toMatch(/^SwiftShader \(Chrome \d+, software\)$/);
      for (const k of [
        'samplesPerSecond',
        'aggregateSamplesPerSecond',
        'realtimeFactor',
        'dispatchesPerStep',
        'naiveSamplesPerSecond',
        'speedupOverNaive',
        'weightGBps',
        'weightBandwidthFraction',
        'readCeilingGBps',
        'fmaCeilingGflops',
      ] as const) {
        expect(Number.isFinite(r[k]) && r[k] > 0, `${k} = ${r[k]}`).toBe(true);
      }
      expect(r.aggregateSamplesPerSecond).toBeCloseTo(r.samplesPerSecond * r.batch, 6);
      // `auto` times the kernels in the page (a fresh profile each run), so any path may win there.
      expect(['voice-loop', 'voice-lanes', 'layered', 'fused']).toContain(r.path);
      expect(r.kernel.startsWith(r.path)).toBe(true);
      expect(r.weightStorage).toBe('f32'); // a random model's weights are not all exact f16 values
      expect(r.numpySamplesPerSecond).toBeNull(); // NumPy is Node's baseline only
      expect(r.ratioToNumpy).toBeNull();
    }
  });

  it('generates the same seeded voice in the page as in Node, on the path the page took', async (ctx) => {
    if (skipWhy) ctx.skip();
    const seconds = 0.1;
    const seed = 5;
    const page = await generateInBrowser({ config: 'tiny', seconds, seed });
    expect(page.adapter).toMatch(/SwiftShader/);
    // The page's embedding, drawn the way src/browser/bench-entry.ts draws it.
    const engine = await testEngine();
    const model = await randomModel(engine, 'tiny', 1);
    const c = model.config;
    const frames = Math.max(1, Math.round((seconds * c.sampleRate) / c.hop));
    const rng = new Rng(seed);
    const data = Float32Array.from({ length: frames * c.bottleneck }, () => rng.uniform(-1, 1));
    const node = await model.generate(
      { data, shape: [frames, c.bottleneck] },
      { seed, path: page.plan.path, fusedShape: page.plan.fused?.shape, weightStorage: page.plan.fused?.storage },
    );
    model.dispose();
    expect(page.audio.length).toBe(frames * c.hop);
    // Every sample is a mu-law class decoded, so equal audio means equal classes. One class apart
    // anywhere would send the two autoregressive runs apart from there on.
    const first = node.findIndex((v, i) => v !== page.audio[i]);
    expect(first, `the page's voice leaves Node's at sample ${first}`).toBe(-1);
  });

  it('says where Chromium is missing', async () => {
    await expect(
      runGenerateBenchInBrowser({
        config: 'tiny',
        batches: [1],
        seconds: 0.05,
        naiveSteps: 1,
        chromium: '/nonexistent/chromium',
      }),
    ).rejects.toThrow(/Chromium not found at \/nonexistent\/chromium: install it/);
  });
});
