// The benchmarks run and report what they promise (speed itself is measured by `nsynth bench`, never asserted).
import { describe, expect, it } from 'vitest';
import { configConvShapes } from '../src/bench/conv-tiles.js';
import { getConfig } from '../src/model/config.js';
import { nsynthOk } from './cli-run.js';

describe('bench conv-tiles', () => {
  it("lists a config's distinct convolutions", () => {
    const shapes = configConvShapes(getConfig('h32_pitch'), 6144);
    expect(shapes.map((s) => `${s.cin}x${s.taps}->${s.cout}`)).toEqual([
      '32x3->32',
      '32x1->32',
      '32x1->16',
      '32x3->64',
      '32x1->64',
      '64x1->64',
      '64x1->256',
    ]);
    expect(shapes.every((s) => s.rows === 6144 && s.dilation === (s.taps > 1 ? 4 : 1))).toBe(true);
  });

  it('--json times every variant of the three kernels against the FMA probe', async () => {
    const out = await nsynthOk(['bench', 'conv-tiles', '--config', 'tiny', '--rows', '256', '--json']);
    const r = JSON.parse(out);
    expect(r.ceilings.fmaGflops).toBeGreaterThan(0);
    const kernels = new Set(r.rows.map((x: { kernel: string }) => x.kernel));
    expect([...kernels].sort()).toEqual(['forward', 'input gradient', 'weight gradient']);
    for (const row of r.rows) {
      for (const v of ['wide', 'narrow']) {
        expect(row.ms[v]).toBeGreaterThan(0);
        expect(row.fmaFraction[v]).toBeGreaterThan(0);
      }
      // Where the adapter has subgroups of 8+ lanes (lavapipe does), the lanes kernels are timed too.
      if (row.ms.lanes !== undefined) expect(row.fmaFraction.lanes).toBeGreaterThan(0);
    }
  });
});

describe('bench generate', () => {
  it('--fused-shape forces the fused path in that shape, named in the kernels column', async () => {
    const out = await nsynthOk([
      'bench',
      'generate',
      '--config',
      'tiny',
      '--batch',
      '1',
      '--seconds',
      '0.032',
      '--naive-steps',
      '1',
      '--fused-shape',
      'rows:8x4',
      '--json',
    ]);
    const rows = JSON.parse(out);
    expect(rows).toHaveLength(1);
    expect(rows[0].path).toBe('fused');
    expect(rows[0].kernel).toMatch(/^fused f(16|32) rows 8x4$/);
    expect(rows[0].samplesPerSecond).toBeGreaterThan(0);
  });
});

describe('bench tfjs-graph', () => {
  it('--json runs the exported GraphModel on every tfjs backend beside our engine, each checked against our logits', async () => {
    const out = await nsynthOk(['bench', 'tfjs-graph', '--model', 'random:tiny', '--seconds', '0.064', '--json']);
    const r = JSON.parse(out);
    expect(r.config).toBe('tiny');
    expect(r.samples).toBe(1024);
    expect(r.rows.map((x: { executor: string }) => x.executor)).toEqual([
      'nsynth-webgpu',
      'tfjs cpu',
      'tfjs wasm',
      'tfjs webgpu',
    ]);
    for (const row of r.rows) {
      expect(row.samplesPerSecond).toBeGreaterThan(0);
      expect(row.oursOverThis).toBeGreaterThan(0);
      expect(row.logitsError).toBeLessThan(1e-4);
      expect(row.adapter).toMatch(/\S/); // the provenance every bench row carries
    }
  });
});
