// The two tile variants of the three convolution kernels (forward, input gradient, weight
// gradient) side by side, per number of output columns: the measurement behind NARROW_MAX_COLUMNS
// in src/ops/conv1d.ts. `nsynth bench conv-tiles [--json]`.
import type { Engine } from '../gpu/engine.js';
import { destroyDispatches, type Dispatch } from '../gpu/registry.js';
import { conv1d, type TileVariant } from '../ops/conv1d.js';
import {
  conv1dBackwardInput,
  conv1dBackwardWeight,
  weightGradScratch,
  type ConvShape,
} from '../ops/conv1d-backward.js';
import { ceilingsHeader, measureCeilings } from './probes.js';

export interface TileRow {
  kernel: 'forward' | 'input gradient' | 'weight gradient';
  columns: number;
  wideMs: number;
  narrowMs: number;
}

async function time(engine: Engine, list: Dispatch[], reps: number): Promise<number> {
  engine.run(list);
  await engine.sync();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) engine.run(list);
  await engine.sync();
  return (performance.now() - t0) / reps;
}

export async function runConvTilesBench(
  engine: Engine,
  o: { rows: number; reduction: number; columns: number[]; json: boolean },
): Promise<TileRow[]> {
  const ceilings = await measureCeilings(engine);
  const rows: TileRow[] = [];
  const reps = engine.adapter.type === 'cpu' ? 10 : 100;
  for (const cols of o.columns) {
    const ms: Record<string, Record<TileVariant, number>> = {
      forward: { wide: 0, narrow: 0 },
      'input gradient': { wide: 0, narrow: 0 },
      'weight gradient': { wide: 0, narrow: 0 },
    };
    for (const tile of ['wide', 'narrow'] as const) {
      // Each kernel gets `cols` output columns: Cout for the forward and weight passes, Cin for the input gradient.
      const fwd: ConvShape = {
        B: 1,
        T: o.rows,
        cin: o.reduction,
        cout: cols,
        taps: 1,
        dilation: 1,
        mode: 'causal',
        reluIn: false,
        reluOut: false,
        tile,
      };
      const inp: ConvShape = { ...fwd, cin: cols, cout: o.reduction };
      const t = (shape: number[]) => engine.tensor(shape);
      const x = t([1, o.rows, o.reduction]);
      const W = t([1, 1, o.reduction, cols]);
      const y = t([1, o.rows, cols]);
      const dW = t([1, 1, o.reduction, cols]);
      const db = t([cols]);
      const scratch = t([weightGradScratch(fwd)]);
      const Wi = t([1, 1, cols, o.reduction]);
      const dyi = t([1, o.rows, o.reduction]);
      const dxi = t([1, o.rows, cols]);
      const lists: [string, Dispatch[]][] = [
        ['forward', [await conv1d(engine, x, W, null, y, { taps: 1, tile })]],
        ['input gradient', [await conv1dBackwardInput(engine, inp, dyi, Wi, dxi, dyi, dxi, false)]],
        [
          'weight gradient',
          await conv1dBackwardWeight(engine, fwd, x, y, y, dW, db, scratch, { W: false, bias: false }),
        ],
      ];
      for (const [k, list] of lists) {
        ms[k][tile] = await time(engine, list, reps);
        destroyDispatches(list);
      }
      for (const x2 of [x, W, y, dW, db, scratch, Wi, dyi, dxi]) x2.release();
    }
    for (const k of Object.keys(ms) as TileRow['kernel'][])
      rows.push({ kernel: k, columns: cols, wideMs: ms[k].wide, narrowMs: ms[k].narrow });
  }
  if (o.json) console.log(JSON.stringify({ adapter: engine.adapter.name, ceilings, rows }, null, 2));
  else {
    console.log(ceilingsHeader(engine.adapter.name, ceilings));
    console.log(`${o.rows} rows, reduction ${o.reduction}`);
    console.log('kernel            columns  wide ms  narrow ms  narrow speed-up');
    for (const r of rows)
      console.log(
        `${r.kernel.padEnd(16)} ${String(r.columns).padStart(8)} ${r.wideMs.toFixed(3).padStart(8)} ` +
          `${r.narrowMs.toFixed(3).padStart(10)} ${(r.wideMs / r.narrowMs).toFixed(2).padStart(16)}`,
      );
  }
  return rows;
}
