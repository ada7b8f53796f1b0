// Host wrapper and reference for kernels/sigmoid.wgsl: the spectrogram baseline's output at inference.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { type Arr, expectNumel, grid1d } from './common.js';

export async function sigmoid(engine: Engine, x: Tensor, y: Tensor): Promise<Dispatch> {
  expectNumel('sigmoid', 'y', y, x.numel);
  const k = await engine.kernel('sigmoid');
  return k.prepare({ params: { n: x.numel }, x: x.binding, y: y.binding }, [grid1d(x.numel, 256)]);
}

export function sigmoidReference(x: Arr): Float64Array {
  return Float64Array.from(x, (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))));
}
