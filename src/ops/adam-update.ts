// Host wrapper and reference for kernels/adam_update.wgsl: Adam with TensorFlow's defaults
// (beta1 0.9, beta2 0.999, epsilon 1e-8 as Magenta sets it) fused with the weights' moving average.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d } from './common.js';

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** EMA decay for this step (0 disables); see emaDecay(). */
  emaDecay: number;
  /** Clip the gradient to this global L2 norm (0 disables). */
  maxGradNorm: number;
}

export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** TensorFlow's ExponentialMovingAverage with num_updates = step: min(decay, (1 + step) / (10 + step)). */
export function emaDecay(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

/** The bias-corrected step size of update number `t` (1-based), computed in float64. */
export function adamStepSize(h: AdamHyper, t: number): number {
  return (h.lr * Math.sqrt(1 - h.beta2 ** t)) / (1 - h.beta1 ** t);
}

/** Index in the hyper buffer where the partial squared gradient norms start. */
export const HYPER_NORM_SLOT = 8;

/** The per-step numbers the prepared dispatch reads: write this before each submit. */
export function adamHyperValues(h: AdamHyper, t: number, normSlots: number): Float32Array {
  const a = new Float32Array(HYPER_NORM_SLOT + normSlots);
  a.set([adamStepSize(h, t), h.beta1, h.beta2, h.epsilon, h.emaDecay, h.maxGradNorm]);
  return a;
}

/** One fused Adam + EMA update over equally sized flat views. */
export async function adamUpdate(
  engine: Engine,
  hyper: Tensor,
  normSlots: number,
  grad: Tensor,
  p: Tensor,
  m: Tensor,
  v: Tensor,
  ema: Tensor,
): Promise<Dispatch> {
  for (const [name, t] of Object.entries({ p, m, v, ema })) expectNumel('adamUpdate', name, t, grad.numel);
  expectNumel('adamUpdate', 'hyper', hyper, HYPER_NORM_SLOT + normSlots);
  const k = await engine.kernel('adam_update');
  return k.prepare(
    {
      params: { n: grad.numel, norm_slots: normSlots },
      hyper: hyper.binding,
      grad: grad.binding,
      p: p.binding,
      m: m.binding,
      v: v.binding,
      ema: ema.binding,
    },
    [grid1d(grad.numel, 256, 4096)],
  );
}

/** Plain reference of the same update, in float64, in place on the given arrays. */
export function adamReference(
  h: AdamHyper,
  t: number,
  grad: ArrayLike<number>,
  p: Float64Array,
  m: Float64Array,
  v: Float64Array,
  ema: Float64Array,
): void {
  let clip = 1;
  if (h.maxGradNorm > 0) {
    let sq = 0;
    for (let i = 0; i < grad.length; i++) sq += grad[i] * grad[i];
    const norm = Math.sqrt(sq);
    if (norm > h.maxGradNorm) clip = h.maxGradNorm / norm;
  }
  const lrT = adamStepSize(h, t);
  for (let i = 0; i < grad.length; i++) {
    const g = clip * grad[i];
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * g;
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
    p[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + h.epsilon);
    if (h.emaDecay > 0) ema[i] -= (1 - h.emaDecay) * (ema[i] - p[i]);
  }
}
