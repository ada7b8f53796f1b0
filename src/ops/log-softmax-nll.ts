// Host wrapper and reference for kernels/log_softmax_nll.wgsl: row-wise log-softmax and the
// sparse softmax cross-entropy of a label per row. On CPU adapters (where the lanes kernels are
// preferred) log_softmax_nll_rows.wgsl runs instead: one row per invocation, no barriers.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { lanesPreferred } from '../gpu/lanes.js';
import { expectNumel, grid1d, type Arr } from './common.js';

/** `workgroup`: one workgroup per row (GPUs); `rows`: one row per invocation (CPU adapters). */
export type LogSoftmaxVariant = 'workgroup' | 'rows';

export async function logSoftmaxNll(
  engine: Engine,
  x: Tensor,
  labels: Tensor,
  logp: Tensor,
  nll: Tensor,
  variant: LogSoftmaxVariant = lanesPreferred(engine) ? 'rows' : 'workgroup',
): Promise<Dispatch> {
  const classes = x.shape[x.shape.length - 1];
  const rows = x.numel / classes;
  expectNumel('logSoftmaxNll', 'labels', labels, rows);
  expectNumel('logSoftmaxNll', 'logp', logp, x.numel);
  expectNumel('logSoftmaxNll', 'nll', nll, rows);
  const bindings = { x: x.binding, labels: labels.binding, logp: logp.binding, nll: nll.binding };
  if (variant === 'rows') {
    // 64 rows per workgroup; grid x holds up to 65535 workgroups, more rows wrap into y.
    const rowsPerY = Math.min(rows, 65535 * 64);
    const k = await engine.kernel('log_softmax_nll_rows');
    return k.prepare({ params: { rows, classes, rows_per_y: rowsPerY }, ...bindings }, [
      Math.ceil(rowsPerY / 64),
      Math.ceil(rows / rowsPerY),
    ]);
  }
  const rowsPerY = Math.min(rows, 65535);
  const k = await engine.kernel('log_softmax_nll');
  return k.prepare({ params: { rows, classes, rows_per_y: rowsPerY }, ...bindings }, [
    rowsPerY,
    Math.ceil(rows / rowsPerY),
  ]);
}

export function logSoftmaxNllReference(
  x: Arr,
  classes: number,
  labels: ArrayLike<number>,
): { logp: Float64Array; nll: Float64Array } {
  const rows = x.length / classes;
  const logp = new Float64Array(x.length);
  const nll = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, x[r * classes + c]);
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(x[r * classes + c] - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < classes; c++) logp[r * classes + c] = x[r * classes + c] - lse;
    nll[r] = -logp[r * classes + Math.min(labels[r], classes - 1)];
  }
  return { logp, nll };
}

/** dx = scale * (softmax(x) - onehot(label)) from the saved log-softmax: the gradient of scale * sum(nll). */
export async function logSoftmaxNllBackward(
  engine: Engine,
  logp: Tensor,
  labels: Tensor,
  dx: Tensor,
  scale: number,
): Promise<Dispatch> {
  const classes = logp.shape[logp.shape.length - 1];
  const rows = logp.numel / classes;
  expectNumel('logSoftmaxNllBackward', 'labels', labels, rows);
  expectNumel('logSoftmaxNllBackward', 'dx', dx, logp.numel);
  const k = await engine.kernel('log_softmax_nll_backward');
  return k.prepare({ params: { rows, classes, scale }, logp: logp.binding, labels: labels.binding, dx: dx.binding }, [
    grid1d(logp.numel, 256),
  ]);
}

export function logSoftmaxNllBackwardReference(
  logp: Arr,
  classes: number,
  labels: ArrayLike<number>,
  scale: number,
): Float64Array {
  const dx = new Float64Array(logp.length);
  for (let i = 0; i < logp.length; i++) {
    const r = Math.floor(i / classes);
    const target = Math.min(labels[r], classes - 1);
    dx[i] = scale * (Math.exp(logp[i]) - (i % classes === target ? 1 : 0));
  }
  return dx;
}
