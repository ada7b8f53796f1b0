// Host wrapper and reference for kernels/axpy.wgsl: y += alpha * x, the tape's way of adding a
// gradient contribution that a kernel cannot accumulate itself.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';

/** y += alpha * x. */
export async function axpy(engine: Engine, x: Tensor, y: Tensor, alpha = 1): Promise<Dispatch> {
  expectNumel('axpy', 'y', y, x.numel);
  const k = await engine.kernel('axpy');
  return k.prepare({ params: { n: x.numel, alpha }, x: x.binding, y: y.binding }, [grid1d(x.numel, 256)]);
}

export function axpyReference(x: Arr, y: Arr, alpha = 1): Float64Array {
  return Float64Array.from(y, (v, i) => v + alpha * x[i]);
}
