// Helpers shared by the op wrappers: shape checks and grid sizes.
import type { Tensor } from '../gpu/tensor.js';

/** Host arrays the references accept: float32 from the GPU side, float64 for gradient checks. */
export type Arr = Float32Array | Float64Array;

/** Workgroup count for a grid-stride loop over n items (the kernels loop when the grid is capped). */
export function grid1d(n: number, workgroupSize: number, cap = 65535): number {
  return Math.max(1, Math.min(cap, Math.ceil(n / workgroupSize)));
}

export function expectNumel(op: string, what: string, t: Tensor, n: number): void {
  if (t.numel !== n) throw new Error(`${op}: ${what} has ${t.numel} elements (shape [${t.shape}]), expected ${n}`);
}

export function expectRank(op: string, what: string, t: Tensor, rank: number): void {
  if (t.shape.length !== rank) throw new Error(`${op}: ${what} has shape [${t.shape}], expected rank ${rank}`);
}
