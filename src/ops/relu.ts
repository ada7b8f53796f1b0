// ReLU: the forward ReLUs are fused into conv1d (reluIn / reluOut); what stands alone is the
// backward mask, kernels/relu_backward.wgsl, used where a conv's masked output gradient also feeds a
// residual or a frame bias. The forward reference is the function the gradient checks differentiate.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';

export function reluReference(x: Arr): Float64Array {
  return Float64Array.from(x, (v) => Math.max(v, 0));
}

/** dx (+)= dy where x > 0. */
export async function reluBackward(
  engine: Engine,
  x: Tensor,
  dy: Tensor,
  dx: Tensor,
  accumulate: boolean,
): Promise<Dispatch> {
  expectNumel('reluBackward', 'dy', dy, x.numel);
  expectNumel('reluBackward', 'dx', dx, x.numel);
  const k = await engine.kernel('relu_backward');
  return k.prepare(
    { params: { n: x.numel, accumulate: accumulate ? 1 : 0 }, x: x.binding, dy: dy.binding, dx: dx.binding },
    [grid1d(x.numel, 256)],
  );
}

export function reluBackwardReference(x: Arr, dy: Arr): Float64Array {
  return Float64Array.from(dy, (v, i) => (x[i] > 0 ? v : 0));
}
