// The variants of the three convolution kernels (forward, input gradient, weight gradient) side by
// side on one convolution shape per run, each as milliseconds and as a fraction of the adapter's
// FMA probe measured in the same run: the measurement behind NARROW_MAX_COLUMNS and lanesPreferred
// in src/ops/conv1d.ts. `nsynth bench conv-tiles [--json]`.
import type { Engine } from '../gpu/engine.js';
import type { ModelConfig } from '../model/config.js';
import { destroyDispatches, type Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { conv1d, lanesFit, type TileVariant } from '../ops/conv1d.js';
import {
  conv1dBackwardInput,
  conv1dBackwardWeight,
  weightGradScratch,
  type ConvShape,
} from '../ops/conv1d-backward.js';
import { ceilingsHeader, measureCeilings, type AdapterCeilings } from './probes.js';

export type ConvKernelName = 'forward' | 'input gradient' | 'weight gradient';

export interface TileRow {
  kernel: ConvKernelName;
  /** The convolution: rows (B x T) by Cin by taps into Cout. */
  rows: number;
  cin: number;
  cout: number;
  taps: number;
  /** Milliseconds per call of each variant that can run here. */
  ms: Partial<Record<TileVariant, number>>;
  /** Multiply-adds x 2 per second, as a fraction of the FMA probe, per variant. */
  fmaFraction: Partial<Record<TileVariant, number>>;
}

export interface ConvBenchShape {
  rows: number;
  cin: number;
  cout: number;
  taps: number;
  dilation: number;
}

async function time(engine: Engine, list: Dispatch[], reps: number): Promise<number> {
  engine.run(list);
  await engine.sync();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) engine.run(list);
  await engine.sync();
  return (performance.now() - t0) / reps;
}

/** Times every variant of the three kernels of one convolution. */
async function benchShape(engine: Engine, c: ConvBenchShape, fmaGflops: number, reps: number): Promise<TileRow[]> {
  const variants: TileVariant[] = ['wide', 'narrow'];
  if (lanesFit(engine, c.cin, c.cout)) variants.push('lanes');
  const kernels: ConvKernelName[] = ['forward', 'input gradient', 'weight gradient'];
  const rows = kernels.map(
    (kernel): TileRow => ({ kernel, rows: c.rows, cin: c.cin, cout: c.cout, taps: c.taps, ms: {}, fmaFraction: {} }),
  );
  const flop = 2 * c.rows * c.cin * c.taps * c.cout;
  const held: Tensor[] = [];
  const t = (shape: number[]) => {
    const x = engine.tensor(shape);
    held.push(x);
    return x;
  };
  const x = t([1, c.rows, c.cin]);
  const W = t([1, c.taps, c.cin, c.cout]);
  const y = t([1, c.rows, c.cout]);
  const dy = t([1, c.rows, c.cout]);
  const dx = t([1, c.rows, c.cin]);
  const dW = t([1, c.taps, c.cin, c.cout]);
  const db = t([c.cout]);
  for (const tile of variants) {
    const s: ConvShape = {
      B: 1,
      T: c.rows,
      cin: c.cin,
      cout: c.cout,
      taps: c.taps,
      dilation: c.dilation,
      mode: 'causal',
      reluIn: false,
      reluOut: false,
      tile,
    };
    const scratch = engine.tensor([weightGradScratch(s, engine)]);
    const lists: Dispatch[][] = [
      [await conv1d(engine, x, W, null, y, { taps: c.taps, dilation: c.dilation, tile })],
      [await conv1dBackwardInput(engine, s, dy, W, x, y, dx, false)],
      await conv1dBackwardWeight(engine, s, x, dy, y, dW, db, scratch, { W: false, bias: false }),
    ];
    for (const [i, list] of lists.entries()) {
      const ms = await time(engine, list, reps);
      rows[i].ms[tile] = ms;
      rows[i].fmaFraction[tile] = flop / (ms / 1000) / 1e9 / fmaGflops;
      destroyDispatches(list);
    }
    scratch.release();
  }
  for (const h of held) h.release();
  return rows;
}

export async function runConvTilesBench(
  engine: Engine,
  o: { shapes: ConvBenchShape[]; json: boolean },
): Promise<{ adapter: string; ceilings: AdapterCeilings; rows: TileRow[] }> {
  const ceilings = await measureCeilings(engine);
  const reps = engine.adapter.type === 'cpu' ? 5 : 100;
  const rows: TileRow[] = [];
  for (const c of o.shapes) rows.push(...(await benchShape(engine, c, ceilings.fmaGflops, reps)));
  const result = { adapter: engine.adapter.name, ceilings, rows };
  if (o.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(ceilingsHeader(engine.adapter.name, ceilings));
    console.log('kernel           rows x Cin x taps -> Cout    wide ms (FMA)    narrow ms (FMA)     lanes ms (FMA)');
    const cell = (r: TileRow, v: TileVariant) =>
      r.ms[v] === undefined
        ? '-'.padStart(18)
        : `${r.ms[v]!.toFixed(2).padStart(9)} (${(100 * r.fmaFraction[v]!).toFixed(0).padStart(3)}%)`.padStart(18);
    for (const r of rows)
      console.log(
        `${r.kernel.padEnd(16)} ${`${r.rows} x ${r.cin} x ${r.taps} -> ${r.cout}`.padEnd(26)}` +
          `${cell(r, 'wide')} ${cell(r, 'narrow')} ${cell(r, 'lanes')}`,
      );
  }
  return result;
}

/** The distinct convolutions a config trains with (dilated ones at dilation 4), over `rows` rows. */
export function configConvShapes(c: ModelConfig, rows: number): ConvBenchShape[] {
  const e = c.encoder.width;
  const r = c.decoder.residual;
  const s = c.decoder.skip;
  const all: [number, number, number][] = [
    [e, 3, e], // encoder dilated conv
    [e, 1, e], // encoder residual 1x1
    [e, 1, c.bottleneck], // embedding
    [r, 3, 2 * r], // decoder dilated conv (filter and gate)
    [r, 1, r], // decoder residual 1x1
    [r, 1, s], // skip 1x1
    [s, 1, s], // output head
    [s, 1, c.numClasses], // logits
  ];
  const seen = new Set<string>();
  const out: ConvBenchShape[] = [];
  for (const [cin, taps, cout] of all) {
    const key = `${cin}/${taps}/${cout}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ rows, cin, cout, taps, dilation: taps > 1 ? 4 : 1 });
  }
  return out;
}
