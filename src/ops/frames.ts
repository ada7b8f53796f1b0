// Host wrappers and references for moving between sample rate and frame rate: average pooling over
// 512-sample windows (the encoder's ae_pool) and nearest-neighbour upsampling (Magenta's _condition).
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, expectRank, grid1d, type Arr } from './common.js';

/** x [B, T, C] -> out [B, T/window, C]: the mean of each window (scale 1 sums it instead). */
export async function avgPool(engine: Engine, x: Tensor, out: Tensor, window: number, scale = 1 / window): Promise<Dispatch> {
  expectRank('avgPool', 'x', x, 3);
  const [B, T, C] = x.shape;
  if (T % window !== 0) throw new Error(`avgPool: length ${T} is not a multiple of the window ${window}`);
  const total = B * (T / window) * C;
  expectNumel('avgPool', 'out', out, total);
  const k = await engine.kernel('avg_pool');
  return k.prepare({ params: { frames: T / window, window, channels: C, total, scale }, x: x.binding, out: out.binding }, [grid1d(total, 64)]);
}

export function avgPoolReference(x: Arr, [B, T, C]: [number, number, number], window: number, scale = 1 / window): Float64Array {
  const F = T / window;
  const out = new Float64Array(B * F * C);
  for (let b = 0; b < B; b++) {
    for (let f = 0; f < F; f++) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let j = 0; j < window; j++) s += x[(b * T + f * window + j) * C + c];
        out[(b * F + f) * C + c] = s * scale;
      }
    }
  }
  return out;
}

/** x [B, F, C] -> out [B, F*factor, C], times `scale`. */
export async function upsampleNearest(engine: Engine, x: Tensor, out: Tensor, factor: number, scale = 1): Promise<Dispatch> {
  expectRank('upsampleNearest', 'x', x, 3);
  const [B, F, C] = x.shape;
  const total = B * F * factor * C;
  expectNumel('upsampleNearest', 'out', out, total);
  const k = await engine.kernel('upsample_nearest');
  return k.prepare({ params: { factor, channels: C, total, scale }, x: x.binding, out: out.binding }, [grid1d(total, 256)]);
}

export function upsampleNearestReference(x: Arr, [B, F, C]: [number, number, number], factor: number, scale = 1): Float64Array {
  const out = new Float64Array(B * F * factor * C);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < F * factor; t++) {
      for (let c = 0; c < C; c++) out[(b * F * factor + t) * C + c] = scale * x[(b * F + Math.floor(t / factor)) * C + c];
    }
  }
  return out;
}
