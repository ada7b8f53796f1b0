// Host wrappers and references for kernels/leaky_relu.wgsl and leaky_relu_backward.wgsl: the
// spectrogram baseline's activation after every batch norm (alpha 0.1).
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';

/** Magenta's baseline slope on the negative side. */
export const LEAKY_RELU_ALPHA = 0.1;

/** y = x for x > 0, alpha * x otherwise. */
export async function leakyRelu(engine: Engine, x: Tensor, y: Tensor, alpha = LEAKY_RELU_ALPHA): Promise<Dispatch> {
  expectNumel('leakyRelu', 'y', y, x.numel);
  const k = await engine.kernel('leaky_relu');
  return k.prepare({ params: { n: x.numel, alpha }, x: x.binding, y: y.binding }, [grid1d(x.numel, 256)]);
}

/** dx (+)= dy where x > 0, alpha * dy elsewhere (the slope at 0 is alpha, as TF's LeakyReluGrad). */
export async function leakyReluBackward(
  engine: Engine,
  x: Tensor,
  dy: Tensor,
  dx: Tensor,
  accumulate: boolean,
  alpha = LEAKY_RELU_ALPHA,
): Promise<Dispatch> {
  expectNumel('leakyReluBackward', 'dy', dy, x.numel);
  expectNumel('leakyReluBackward', 'dx', dx, x.numel);
  const k = await engine.kernel('leaky_relu_backward');
  return k.prepare(
    {
      params: { n: x.numel, alpha, accumulate: accumulate ? 1 : 0 },
      x: x.binding,
      dy: dy.binding,
      dx: dx.binding,
    },
    [grid1d(x.numel, 256)],
  );
}

export function leakyReluReference(x: Arr, alpha = LEAKY_RELU_ALPHA): Float64Array {
  return Float64Array.from(x, (v) => (v > 0 ? v : alpha * v));
}

export function leakyReluBackwardReference(x: Arr, dy: Arr, alpha = LEAKY_RELU_ALPHA): Float64Array {
  return Float64Array.from(dy, (g, i) => (x[i] > 0 ? g : alpha * g));
}
