// Kernel choice by timing (src/generate/tuning.ts): `auto` times the rule's path and the fused
// shapes once per adapter, config and batch bucket, keeps the fastest, and reuses it; Node keeps the
// choices in a JSON file that survives a bad file. What wins is the adapter's business, so the test
// checks the bookkeeping and that the chosen plan generates what that plan generates when forced.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngine } from './helpers.js';
import { collect, note } from './generate-helpers.js';
import { modelFromWeights } from '../src/nsynth.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { resolvePlan } from '../src/generate/fast.js';
import {
  batchBucket,
  FUSED_SHAPES,
  GPU_FUSED_SHAPES,
  parseFusedShape,
  planLabel,
  setTuningStore,
  isGpu,
  tune,
  type TuningStore,
  shapesFor,
  storagesToTime,
  tuningCandidates,
  type TunedEntry,
  tuningKey,
} from '../src/generate/tuning.js';
import { choosePath } from '../src/generate/route.js';
import { voiceLoopKernel } from '../src/ops/gen-step.js';
import { fileStore } from '../src/generate/tuning-file.js';
import type { GeneratorResources } from '../src/generate/types.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-tuning-'));
beforeAll(() => {
  process.env.NSYNTH_TUNING = 'on';
  process.env.NSYNTH_TUNING_CACHE = path.join(dir, 'tuning.json');
});
afterAll(() => {
  process.env.NSYNTH_TUNING = 'off';
  setTuningStore(null);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('kernel tuning', () => {
  it('batch buckets, keys and the shapes tried', () => {
    expect([1, 2, 3, 16, 17, 1000].map(batchBucket)).toEqual([1, 2, 4, 16, 32, 256]);
    const c = getConfig('h128_bo16');
    expect(shapesFor(c, 1).every((s) => s.VT === 1)).toBe(true);
    expect(shapesFor(c, 16).some((s) => s.VT > 1)).toBe(true);
    // the rows layout: GPUs only, and only where a row has a vec4 for each thread (h128_bo16: 32)
    const rows = (config: string, B: number) =>
      shapesFor(getConfig(config), B, true).filter((s) => s.layout === 'rows');
    expect(shapesFor(c, 1).some((s) => s.layout === 'rows')).toBe(false);
    expect(rows('h128_bo16', 1).map((s) => s.KS)).toEqual([32, 16]);
    expect(rows('h512_bo16', 1).map((s) => [s.C4, s.KS])).toEqual([
      [1, 64],
      [2, 32],
      [4, 16],
    ]);
    expect(rows('h512_bo16', 64).map((s) => s.VT)).toEqual([4, 4, 8]);
    expect(rows('h32_pitch', 1)).toEqual([]);
    // --fused-shape reads the kernels column's words back
    for (const shape of [...FUSED_SHAPES, ...GPU_FUSED_SHAPES]) {
      const words = planLabel({ path: 'fused', fused: { shape, storage: 'f32' } }).replace('fused f32 ', '');
      expect(parseFusedShape(words)).toEqual(shape);
    }
    expect(parseFusedShape('rows:8x32v4')).toEqual({ C4: 2, KS: 32, VT: 4, layout: 'rows' });
    for (const bad of [
      '',
      '6x16',
      '16x',
      'columns 16x16',
      '16x16 v',
      '16x15',
      '0x16',
      '16x16v0',
      '16x4v8',
      'rows 64x16',
    ])
      expect(parseFusedShape(bad), bad).toBeNull();
    expect(planLabel({ path: 'fused', fused: { shape: { C4: 4, KS: 16, VT: 4 }, storage: 'f16' } })).toBe(
      'fused f16 16x16 v4',
    );
  });

  it("auto times the candidates once, keeps the fastest (the rules' path unless beaten by 10%) in the cache file, and generates as that plan", async () => {
    const e = await testEngine();
    setTuningStore(null); // the file store at NSYNTH_TUNING_CACHE
    const c = getConfig('h128_bo16');
    const model = await modelFromWeights(e, initWeights(c, 61, { biasScale: 0.1 }));
    const r = model.generatorResources();
    const lines: string[] = [];
    const plan = await resolvePlan(r, 2, { weightStorage: 'f32', onTuning: (l) => lines.push(l) });
    // the rule's path, the voice loop where it is the wide kernel (a GPU; widths up to 256) and
    // every fused shape for the bucket were timed
    const label = (gpu: boolean, storage: 'f32' | 'f16') =>
      shapesFor(c, 2, gpu).map((shape) => planLabel({ path: 'fused', fused: { shape, storage } }));
    const rule = choosePath(c, 'auto', 2);
    // on a GPU: the layered path's f16 past taps, the wide voice loop, the GPU-only shapes, both
    // storages; on a CPU adapter neither
    expect(rule).toBe('layered');
    expect(
      tuningCandidates(c, 2, rule, { storages: ['f32', 'f16'], voiceLoop: 'wide', gpu: true }).map(planLabel),
    ).toEqual([rule, 'layered f16', 'voice-loop', ...label(true, 'f32'), ...label(true, 'f16')]);
    expect(tuningCandidates(c, 2, rule, { storages: ['f16'], voiceLoop: 'serial', gpu: false }).map(planLabel)).toEqual(
      [rule, 'layered f16', ...label(false, 'f16')],
    );
    expect(label(true, 'f32').length).toBeGreaterThan(label(false, 'f32').length);
    expect(tuningCandidates(c, 2, rule, { storages: ['f32'], voiceLoop: 'serial', gpu: false }).map(planLabel)).toEqual(
      [rule, ...label(false, 'f32')],
    );
    const candidates = tuningCandidates(c, 2, rule, {
      storages: storagesToTime(e, 'f32', 'f32'),
      voiceLoop: voiceLoopKernel(e),
      gpu: isGpu(e),
    });
    // one line a candidate, then a line for each challenger of the rules' path timed again
    const timings = lines.filter((l) => !l.includes('timed again'));
    expect(timings.map((l) => /: (.+) [\d.]+ steps\/s$/.exec(l)?.[1])).toEqual(candidates.map(planLabel));
    const confirmations = lines.filter((l) => l.includes('timed again'));
    const stored = JSON.parse(fs.readFileSync(process.env.NSYNTH_TUNING_CACHE!, 'utf8')) as Record<string, TunedEntry>;
    const entry = stored[tuningKey(e, c, 2, 'f32')];
    expect(entry.path).toBe(plan.path);
    expect(entry.candidates.length).toBe(timings.length);
    // candidates fastest first; the one kept is the fastest, or the rules' path (timed first) when
    // nothing beats it by 10%
    const speeds = entry.candidates.map((x) => x.stepsPerSecond);
    expect(speeds).toEqual([...speeds].sort((a, b) => b - a));
    const ruleLabel = /: (.+) [\d.]+ steps\/s$/.exec(lines[0])![1];
    const kept = entry.candidates.find((x) => x.label === planLabel(plan))!;
    expect(entry.stepsPerSecond).toBe(kept.stepsPerSecond);
    if (kept !== entry.candidates[0]) {
      expect(kept.label).toBe(ruleLabel);
      expect(speeds[0]).toBeLessThan(1.1 * kept.stepsPerSecond);
    } else if (kept.label !== ruleLabel) {
      const rule = entry.candidates.find((x) => x.label === ruleLabel)!;
      expect(kept.stepsPerSecond).toBeGreaterThanOrEqual(1.1 * rule.stepsPerSecond);
      // a challenger wins only after a second timing beside the rule
      expect(confirmations.some((l) => l.includes(`again, ${kept.label} `))).toBe(true);
    }
    // the same bucket again: no timing
    const again = await resolvePlan(r, 2, { weightStorage: 'f32', onTuning: (l) => lines.push(l) });
    expect(planLabel(again)).toBe(planLabel(plan));
    expect(lines.length).toBe(candidates.length + confirmations.length);
    // auto generates exactly what the chosen plan generates when forced
    const emb = await model.encode([note(3, 512), note(4, 512)]);
    const auto = await collect(model.stream(emb, { seed: 2, weightStorage: 'f32' }));
    const forced = await collect(
      model.stream(emb, { seed: 2, path: plan.path, fusedShape: plan.fused?.shape, weightStorage: 'f32' }),
    );
    expect(auto.flatMap((ch) => ch.classes.map((a) => Array.from(a)))).toEqual(
      forced.flatMap((ch) => ch.classes.map((a) => Array.from(a))),
    );
    model.dispose();
  });

  it('a corrupt or unwritable cache file is not an error', () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, '{ not json');
    process.env.NSYNTH_TUNING_CACHE = file;
    const s = fileStore()!;
    expect(s.get('anything')).toBeUndefined();
    const entry: TunedEntry = { path: 'layered', stepsPerSecond: 1, candidates: [], measuredAt: 'now' };
    s.set('k', entry);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).k.path).toBe('layered');
    process.env.NSYNTH_TUNING_CACHE = path.join(file, 'cannot', 'be', 'a', 'dir.json');
    expect(() => fileStore()!.set('k', entry)).not.toThrow();
  });

  // A run slowed by other work between the two runs of a difference makes a candidate look faster
  // than it is; the challenger is timed again beside the rules' path before it wins.
  describe('a challenger of the rules path is timed again before it wins', () => {
    const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));
    // a stand-in adapter and config: tune() reads only the adapter's description and the widths
    const fake = {
      engine: {
        adapter: { type: 'cpu', vendor: 'test', architecture: '', device: '', description: '', backend: '' },
        checkHealthy() {},
      },
      config: getConfig('tiny'),
    } as unknown as GeneratorResources;
    const choose = async (challengerMs: (call: number) => number) => {
      const map = new Map<string, TunedEntry>();
      const store: TuningStore = { get: (k) => map.get(k), set: (k, e) => void map.set(k, e) };
      setTuningStore(store);
      let calls = 0;
      const lines: string[] = [];
      const entry = await tune(
        fake,
        1,
        'layered',
        ['f16'],
        async (plan, steps) => {
          const label = planLabel(plan);
          if (label === 'layered') return sleep(steps * 2);
          if (label === 'layered f16') return sleep(steps * challengerMs(calls++));
          throw new Error('not a candidate here');
        },
        (l) => lines.push(l),
      );
      setTuningStore(null);
      return { entry, lines };
    };

    it('a challenger that was fast only once loses to the rule', async () => {
      // 0.2 ms a step over its first timing (its first ten runs), then 4 ms: twice the rule's 2 ms
      const { entry, lines } = await choose((call) => (call < 10 ? 0.2 : 4));
      expect(lines.some((l) => l.includes('timed again, layered f16'))).toBe(true);
      expect(planLabel(entry)).toBe('layered');
    });

    it('a challenger that is faster both times wins', async () => {
      const { entry, lines } = await choose(() => 0.5);
      expect(lines.some((l) => l.includes('timed again, layered f16'))).toBe(true);
      expect(planLabel(entry)).toBe('layered f16');
    });
  });
});
