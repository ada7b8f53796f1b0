// The generation benchmark's plot (src/bench/plot.ts) from synthetic rows: the PNG decodes at the
// promised size, each series' colour is found where its points were placed, and the SVG names the
// series, the ceilings and the axes. No GPU and no speeds measured.
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import type { GenerateBenchRow } from '../src/bench/generate.js';
import {
  flopsPerSample,
  type GenerateBenchPlotInput,
  generateBenchPlot,
  generateBenchPlotLayout,
  PLOT_COLOURS,
  PLOT_HEIGHT,
  PLOT_WIDTH,
} from '../src/bench/plot.js';
import { stepWeightBytes } from '../src/generate/route.js';
import { getConfig } from '../src/model/config.js';

function row(batch: number, aggregate: number, path: string, weightStorage: 'f32' | 'f16' = 'f32'): GenerateBenchRow {
  return {
    config: 'h512_bo16',
    adapter: 'Test GPU 9000 (Vulkan, discrete)',
    batch,
    samplesPerSecond: aggregate / batch,
    aggregateSamplesPerSecond: aggregate,
    realtimeFactor: aggregate / batch / 16000,
    dispatchesPerStep: 62,
    path,
    kernel: path,
    weightStorage,
    weightBytesPerStep: 1e8,
    naiveSamplesPerSecond: 1,
    speedupOverNaive: aggregate,
    weightGBps: 1,
    weightBandwidthFraction: 0.1,
    numpySamplesPerSecond: null,
    ratioToNumpy: null,
    readCeilingGBps: 3000,
    fmaCeilingGflops: 40000,
  };
}

const config = getConfig('h512_bo16');
const input: GenerateBenchPlotInput = {
  rows: [row(1, 2000, 'layered'), row(16, 20000, 'layered'), row(64, 60000, 'layered')],
  peers: [
    { peer: 'pytorch-eager', batch: 1, aggregateSamplesPerSecond: 300 },
    { peer: 'pytorch-eager', batch: 16, aggregateSamplesPerSecond: 4000 },
    { peer: 'pytorch-eager', batch: 64, aggregateSamplesPerSecond: 9000 },
  ],
  ceilings: { readGBps: 3000, fmaGflops: 40000 },
  stepWeightBytes: stepWeightBytes(config),
  flopsPerSample: flopsPerSample(config),
  title: 'bench generate h512_bo16 on Test GPU 9000',
};

function hex(c: string): [number, number, number] {
  return [1, 3, 5].map((i) => Number.parseInt(c.slice(i, i + 2), 16)) as [number, number, number];
}

/** Pixels of exactly this colour (opaque) within r px of (x, y). */
function countColour(png: ReturnType<typeof decode>, colour: string, x: number, y: number, r: number): number {
  const [cr, cg, cb] = hex(colour);
  const ch = png.channels;
  let n = 0;
  for (let py = Math.max(0, Math.round(y - r)); py <= Math.min(png.height - 1, Math.round(y + r)); py++)
    for (let px = Math.max(0, Math.round(x - r)); px <= Math.min(png.width - 1, Math.round(x + r)); px++) {
      const i = (py * png.width + px) * ch;
      if (png.data[i] === cr && png.data[i + 1] === cg && png.data[i + 2] === cb) n++;
    }
  return n;
}

describe('generateBenchPlot', () => {
  const { svg, png } = generateBenchPlot(input);
  const image = decode(png);
  const layout = generateBenchPlotLayout(input);

  it('renders a PNG of the promised size', () => {
    expect(image.width).toBe(PLOT_WIDTH);
    expect(image.height).toBe(PLOT_HEIGHT);
    expect(image.channels).toBeGreaterThanOrEqual(3);
  });

  it('draws our points and the peers where their values put them', () => {
    for (const r of input.rows) {
      const n = countColour(image, PLOT_COLOURS.ours, layout.x(r.batch), layout.y(r.aggregateSamplesPerSecond), 3);
      expect(n, `ours at batch ${r.batch}`).toBeGreaterThan(10);
    }
    for (const p of input.peers ?? []) {
      const n = countColour(image, PLOT_COLOURS.peers[0], layout.x(p.batch), layout.y(p.aggregateSamplesPerSecond), 3);
      expect(n, `peer at batch ${p.batch}`).toBeGreaterThan(10);
    }
    // Nothing of ours far from our line: the empty bottom-right corner of the plot area.
    const { left, top, width, height } = layout.area;
    expect(countColour(image, PLOT_COLOURS.ours, left + width - 20, top + height - 20, 15)).toBe(0);
  });

  it('names the series, the ceilings, the axes and the adapter in the SVG', () => {
    for (const text of [
      'nsynth-webgpu (ours)',
      'pytorch-eager',
      'read ceiling',
      'one weight pass per 16 voices',
      'FMA ceiling',
      'aggregate samples/s',
      'batch (voices generated together; log2 scale)',
      'Test GPU 9000',
      '>layered<',
    ])
      expect(svg).toContain(text);
  });

  it('turns the ceilings into samples/s', () => {
    const bytes = stepWeightBytes(config);
    // One weight pass per voice tile of 16: linear up to 16 voices, flat after.
    expect(layout.readCeiling(1)).toBeCloseTo((3000e9 / bytes) * 1, 6);
    expect(layout.readCeiling(16)).toBeCloseTo((3000e9 / bytes) * 16, 3);
    expect(layout.readCeiling(64)).toBeCloseTo(layout.readCeiling(16), 3);
    expect(layout.fmaCeiling).toBeCloseTo(40000e9 / flopsPerSample(config), 6);
    // f16 rows: half the bytes a pass, twice the read ceiling.
    const f16 = generateBenchPlotLayout({ ...input, rows: input.rows.map((r) => ({ ...r, weightStorage: 'f16' })) });
    expect(f16.weightBytesPerElement).toBe(2);
    expect(f16.readCeiling(1)).toBeCloseTo(2 * layout.readCeiling(1), 6);
  });

  it('counts two flops per step weight', () => {
    expect(flopsPerSample(config)).toBe(stepWeightBytes(config) / 2);
  });

  it('refuses rows of two configs', () => {
    expect(() =>
      generateBenchPlot({ ...input, rows: [...input.rows, { ...row(2, 5, 'layered'), config: 'tiny' }] }),
    ).toThrow(/one config/);
  });
});
