// Host wrappers and references for batch norm as the spectrogram baseline uses it (slim.batch_norm
// with its defaults: a learned beta, no gamma, eps 0.001, moving averages with decay 0.999), over x
// viewed as [N, C] (NHWC rows): kernels/batch_norm_stats.wgsl + batch_norm_stats_sum.wgsl (the batch
// mean and invStd, two passes), batch_norm_apply.wgsl (training and inference),
// batch_norm_moving_update.wgsl, and the backward batch_norm_backward_stats.wgsl +
// batch_norm_backward_stats_sum.wgsl + batch_norm_backward.wgsl.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';

export const BATCH_NORM_EPS = 0.001;
/** slim.batch_norm's default decay of the moving averages. */
export const BATCH_NORM_DECAY = 0.999;

/** Workgroups the partial-sum passes aim for (channel tiles x row chunks): enough to fill a large GPU. */
const TARGET_WORKGROUPS = 1024;
/** Fewest rows a chunk takes, so small batches do not spread into chunks of a row or two. */
const MIN_CHUNK_ROWS = 64;
/** Widest run of adjacent channels one workgroup of the partial-sum kernels covers (256 threads). */
const MAX_COL_WIDTH = 64;

interface Chunking {
  /** Channels per workgroup: a power of two covering C, at most 64 (the rest of the 256 threads split the rows). */
  colWidth: number;
  tiles: number;
  chunkRows: number;
  chunks: number;
}

function chunking(rows: number, channels: number): Chunking {
  let colWidth = 1;
  while (colWidth < channels && colWidth < MAX_COL_WIDTH) colWidth *= 2;
  const tiles = Math.ceil(channels / colWidth);
  const wanted = Math.max(1, Math.ceil(TARGET_WORKGROUPS / tiles));
  const chunkRows = Math.max(MIN_CHUNK_ROWS, Math.ceil(rows / wanted));
  return { colWidth, tiles, chunkRows, chunks: Math.ceil(rows / chunkRows) };
}

/** Rows of x for `channels` channels, with the shape checks every wrapper shares. */
function rowsOf(op: string, x: Tensor, channels: number): number {
  if (!Number.isInteger(channels) || channels < 1) throw new Error(`${op}: channels must be a positive integer`);
  const rows = x.numel / channels;
  if (!Number.isInteger(rows) || rows < 1)
    throw new Error(
      `${op}: x has ${x.numel} elements (shape [${x.shape}]), not a positive number of rows of ${channels}`,
    );
  return rows;
}

function sameRange(a: Tensor, b: Tensor): boolean {
  return a.buffer === b.buffer && a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
}

/**
 * Training mode: mean [C] and invStd [C] = 1/sqrt(var + eps) from the batch, then
 * y = (x - mean) * invStd + beta. Returns the dispatches in order. y doubles as the scratch of the
 * partial sums (chunks x C floats, never more than y holds) before the last dispatch overwrites it,
 * so y must not overlap x.
 */
export async function batchNormTrain(
  engine: Engine,
  x: Tensor,
  beta: Tensor,
  y: Tensor,
  mean: Tensor,
  invStd: Tensor,
  o: { channels: number; eps?: number },
): Promise<Dispatch[]> {
  const op = 'batchNormTrain';
  const C = o.channels;
  const rows = rowsOf(op, x, C);
  for (const [name, t] of [
    ['beta', beta],
    ['mean', mean],
    ['invStd', invStd],
  ] as const)
    expectNumel(op, name, t, C);
  expectNumel(op, 'y', y, x.numel);
  if (sameRange(x, y)) throw new Error(`${op}: y overlaps x (y holds the partial sums before the output)`);
  const eps = o.eps ?? BATCH_NORM_EPS;
  const ch = chunking(rows, C);
  const [kStats, kSum, kApply] = await Promise.all([
    engine.kernel('batch_norm_stats'),
    engine.kernel('batch_norm_stats_sum'),
    engine.kernel('batch_norm_apply'),
  ]);
  const partial = (mode: number) =>
    kStats.prepare(
      {
        params: { rows, channels: C, chunk_rows: ch.chunkRows, col_width: ch.colWidth, mode },
        x: x.binding,
        mean: mean.binding,
        part: y.binding,
      },
      [ch.tiles, ch.chunks],
    );
  const total = (mode: number, out: Tensor) =>
    kSum.prepare({ params: { channels: C, chunks: ch.chunks, rows, eps, mode }, part: y.binding, out: out.binding }, [
      grid1d(C, 1),
    ]);
  return [
    partial(0),
    total(0, mean),
    partial(1),
    total(1, invStd),
    kApply.prepare(
      {
        params: { n: x.numel, channels: C, from_variance: 0, eps },
        x: x.binding,
        beta: beta.binding,
        mean: mean.binding,
        scale: invStd.binding,
        y: y.binding,
      },
      [grid1d(x.numel, 256)],
    ),
  ];
}

/** Inference: y = (x - movingMean) / sqrt(movingVar + eps) + beta. */
export async function batchNormInfer(
  engine: Engine,
  x: Tensor,
  beta: Tensor,
  movingMean: Tensor,
  movingVar: Tensor,
  y: Tensor,
  o: { channels: number; eps?: number },
): Promise<Dispatch> {
  const op = 'batchNormInfer';
  const C = o.channels;
  rowsOf(op, x, C);
  for (const [name, t] of [
    ['beta', beta],
    ['movingMean', movingMean],
    ['movingVar', movingVar],
  ] as const)
    expectNumel(op, name, t, C);
  expectNumel(op, 'y', y, x.numel);
  const k = await engine.kernel('batch_norm_apply');
  return k.prepare(
    {
      params: { n: x.numel, channels: C, from_variance: 1, eps: o.eps ?? BATCH_NORM_EPS },
      x: x.binding,
      beta: beta.binding,
      mean: movingMean.binding,
      scale: movingVar.binding,
      y: y.binding,
    },
    [grid1d(x.numel, 256)],
  );
}

/**
 * moving = decay * moving + (1 - decay) * batch statistic; for the variance pass the batch variance,
 * which this op recomputes from invStd: var = 1/invStd^2 - eps (clamped at 0).
 */
export async function batchNormMovingUpdate(
  engine: Engine,
  mean: Tensor,
  invStd: Tensor,
  movingMean: Tensor,
  movingVar: Tensor,
  o: { decay?: number; eps?: number } = {},
): Promise<Dispatch> {
  const op = 'batchNormMovingUpdate';
  const C = mean.numel;
  if (C < 1) throw new Error(`${op}: mean is empty`);
  for (const [name, t] of [
    ['invStd', invStd],
    ['movingMean', movingMean],
    ['movingVar', movingVar],
  ] as const)
    expectNumel(op, name, t, C);
  const decay = o.decay ?? BATCH_NORM_DECAY;
  if (!(decay >= 0 && decay <= 1)) throw new Error(`${op}: decay ${decay} outside [0, 1]`);
  const k = await engine.kernel('batch_norm_moving_update');
  return k.prepare(
    {
      params: { channels: C, decay, eps: o.eps ?? BATCH_NORM_EPS },
      mean: mean.binding,
      inv_std: invStd.binding,
      moving_mean: movingMean.binding,
      moving_var: movingVar.binding,
    },
    [grid1d(C, 64)],
  );
}

/** Floats of scratch batchNormBackward needs: two partial sums per channel and chunk, then the two means. */
export function batchNormBackwardScratch(channels: number, rows: number): number {
  return (chunking(rows, channels).chunks + 1) * 2 * channels;
}

/**
 * Backward of batchNormTrain (the batch statistics depend on x):
 * dx (+)= invStd * (dy - mean(dy) - xhat * mean(dy * xhat)) with xhat = (x - mean) * invStd;
 * dbeta (+)= sum of dy per channel. Three dispatches; `accumulate` applies to dx and dbeta alike.
 */
export async function batchNormBackward(
  engine: Engine,
  x: Tensor,
  dy: Tensor,
  mean: Tensor,
  invStd: Tensor,
  dx: Tensor,
  dbeta: Tensor,
  scratch: Tensor,
  o: { channels: number; accumulate: boolean },
): Promise<Dispatch[]> {
  const op = 'batchNormBackward';
  const C = o.channels;
  const rows = rowsOf(op, x, C);
  expectNumel(op, 'dy', dy, x.numel);
  expectNumel(op, 'dx', dx, x.numel);
  for (const [name, t] of [
    ['mean', mean],
    ['invStd', invStd],
    ['dbeta', dbeta],
  ] as const)
    expectNumel(op, name, t, C);
  const need = batchNormBackwardScratch(C, rows);
  if (scratch.numel < need) throw new Error(`${op}: scratch holds ${scratch.numel} floats, needs ${need}`);
  const ch = chunking(rows, C);
  const [kStats, kSum, kDx] = await Promise.all([
    engine.kernel('batch_norm_backward_stats'),
    engine.kernel('batch_norm_backward_stats_sum'),
    engine.kernel('batch_norm_backward'),
  ]);
  const accumulate = o.accumulate ? 1 : 0;
  return [
    kStats.prepare(
      {
        params: { rows, channels: C, chunk_rows: ch.chunkRows, col_width: ch.colWidth },
        x: x.binding,
        dy: dy.binding,
        mean: mean.binding,
        inv_std: invStd.binding,
        part: scratch.binding,
      },
      [ch.tiles, ch.chunks],
    ),
    kSum.prepare(
      { params: { channels: C, chunks: ch.chunks, rows, accumulate }, part: scratch.binding, dbeta: dbeta.binding },
      [grid1d(C, 1)],
    ),
    kDx.prepare(
      {
        params: { n: x.numel, channels: C, base: ch.chunks * 2 * C, accumulate },
        x: x.binding,
        dy: dy.binding,
        mean: mean.binding,
        inv_std: invStd.binding,
        part: scratch.binding,
        dx: dx.binding,
      },
      [grid1d(x.numel, 256)],
    ),
  ];
}

/** Per-channel mean and biased variance (mean of squared deviations, as tf.nn.moments) of x [N, C]. */
function moments(x: Arr, channels: number): { mean: Float64Array; variance: Float64Array } {
  const rows = x.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) mean[i % channels] += x[i];
  for (let c = 0; c < channels; c++) mean[c] /= rows;
  for (let i = 0; i < x.length; i++) variance[i % channels] += (x[i] - mean[i % channels]) ** 2;
  for (let c = 0; c < channels; c++) variance[c] /= rows;
  return { mean, variance };
}

export function batchNormTrainReference(
  x: Arr,
  beta: Arr,
  channels: number,
  eps = BATCH_NORM_EPS,
): { y: Float64Array; mean: Float64Array; variance: Float64Array } {
  const { mean, variance } = moments(x, channels);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    y[i] = (x[i] - mean[c]) / Math.sqrt(variance[c] + eps) + beta[c];
  }
  return { y, mean, variance };
}

export function batchNormInferReference(
  x: Arr,
  beta: Arr,
  movingMean: Arr,
  movingVar: Arr,
  channels: number,
  eps = BATCH_NORM_EPS,
): Float64Array {
  return Float64Array.from(x, (v, i) => {
    const c = i % channels;
    return (v - movingMean[c]) / Math.sqrt(movingVar[c] + eps) + beta[c];
  });
}

/** The closed form the kernels compute, in float64 (the tests check it against finite differences). */
export function batchNormBackwardReference(
  x: Arr,
  dy: Arr,
  channels: number,
  eps = BATCH_NORM_EPS,
): { dx: Float64Array; dbeta: Float64Array } {
  const rows = x.length / channels;
  const { mean, variance } = moments(x, channels);
  const invStd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const dbeta = new Float64Array(channels);
  const dyXhat = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    dbeta[c] += dy[i];
    dyXhat[c] += dy[i] * (x[i] - mean[c]) * invStd[c];
  }
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    const xhat = (x[i] - mean[c]) * invStd[c];
    dx[i] = invStd[c] * (dy[i] - dbeta[c] / rows - (xhat * dyXhat[c]) / rows);
  }
  return { dx, dbeta };
}
