// Host wrapper and reference for kernels/avg_pool.wgsl: average pooling over 512-sample windows (the
// encoder's ae_pool). Scaled by 1 it sums a window instead: the backward of upsample_nearest.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, expectRank, grid1d, type Arr } from './common.js';

/** x [B, T, C] -> out [B, T/window, C]: the mean of each window (scale 1 sums it instead). */
export async function avgPool(
  engine: Engine,
  x: Tensor,
  out: Tensor,
  window: number,
  scale = 1 / window,
): Promise<Dispatch> {
  expectRank('avgPool', 'x', x, 3);
  const [B, T, C] = x.shape;
  if (T % window !== 0) throw new Error(`avgPool: length ${T} is not a multiple of the window ${window}`);
  const total = B * (T / window) * C;
  expectNumel('avgPool', 'out', out, total);
  const k = await engine.kernel('avg_pool');
  return k.prepare(
    { params: { frames: T / window, window, channels: C, total, scale }, x: x.binding, out: out.binding },
    [grid1d(total, 64)],
  );
}

export function avgPoolReference(
  x: Arr,
  [B, T, C]: [number, number, number],
  window: number,
  scale = 1 / window,
): Float64Array {
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
