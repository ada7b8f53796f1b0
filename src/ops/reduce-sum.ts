// Host wrapper and reference for kernels/reduce_sum.wgsl: a scaled sum (or sum of squares) of a
// tensor into one slot of a small output buffer, so a loss or a norm costs a 4-byte read.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Arr } from './common.js';

export async function reduceSum(
  engine: Engine,
  x: Tensor,
  out: Tensor,
  o: { scale?: number; slot?: number; squares?: boolean } = {},
): Promise<Dispatch> {
  const slot = o.slot ?? 0;
  if (slot >= out.numel) throw new Error(`reduceSum: slot ${slot} outside an output of ${out.numel} values`);
  const k = await engine.kernel('reduce_sum');
  return k.prepare(
    { params: { n: x.numel, scale: o.scale ?? 1, slot, squares: o.squares ? 1 : 0 }, x: x.binding, out: out.binding },
    [1],
  );
}

export function reduceSumReference(x: Arr, scale = 1, squares = false): number {
  let s = 0;
  for (const v of x) s += squares ? v * v : v;
  return s * scale;
}
