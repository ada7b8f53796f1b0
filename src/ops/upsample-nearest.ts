// Host wrapper and reference for kernels/upsample_nearest.wgsl: frames to samples by repetition
// (Magenta's _condition). Scaled by 1/window it is the backward of avg_pool.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, expectRank, grid1d, type Arr } from './common.js';

/** x [B, F, C] -> out [B, F*factor, C], times `scale`. */
export async function upsampleNearest(
  engine: Engine,
  x: Tensor,
  out: Tensor,
  factor: number,
  scale = 1,
): Promise<Dispatch> {
  expectRank('upsampleNearest', 'x', x, 3);
  const [B, F, C] = x.shape;
  const total = B * F * factor * C;
  expectNumel('upsampleNearest', 'out', out, total);
  const k = await engine.kernel('upsample_nearest');
  return k.prepare({ params: { factor, channels: C, total, scale }, x: x.binding, out: out.binding }, [
    grid1d(total, 256),
  ]);
}

export function upsampleNearestReference(
  x: Arr,
  [B, F, C]: [number, number, number],
  factor: number,
  scale = 1,
): Float64Array {
  const out = new Float64Array(B * F * factor * C);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < F * factor; t++) {
      for (let c = 0; c < C; c++)
        out[(b * F * factor + t) * C + c] = scale * x[(b * F + Math.floor(t / factor)) * C + c];
    }
  }
  return out;
}
