// Host wrappers and references for kernels/embedding_gather.wgsl and embedding_scatter_add.wgsl:
// the spectrogram baseline's learned pitch embedding (a one-hot pitch times a [P, D] table, 128 x 128
// in Magenta), concatenated to the latent. A pitch >= classes gives a zero row (tf.one_hot's
// all-zero vector) and no gradient.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';

function checkTable(op: string, classes: number, dims: number): void {
  if (!Number.isInteger(classes) || classes < 1 || !Number.isInteger(dims) || dims < 1)
    throw new Error(`${op}: classes ${classes} and dims ${dims} must be positive integers`);
}

/** table [P, D], pitches u32 [B] -> out [B, D] = table[pitch[b]]. */
export async function pitchEmbedding(
  engine: Engine,
  table: Tensor,
  pitches: Tensor,
  out: Tensor,
  o: { classes: number; dims: number },
): Promise<Dispatch> {
  const op = 'pitchEmbedding';
  checkTable(op, o.classes, o.dims);
  expectNumel(op, 'table', table, o.classes * o.dims);
  const B = pitches.numel;
  if (B < 1) throw new Error(`${op}: no pitches`);
  expectNumel(op, 'out', out, B * o.dims);
  const k = await engine.kernel('embedding_gather');
  return k.prepare(
    {
      params: { batch: B, classes: o.classes, dims: o.dims },
      table: table.binding,
      ids: pitches.binding,
      out: out.binding,
    },
    [grid1d(B * o.dims, 64)],
  );
}

/** dtable (+)= for each b: row pitch[b] gets dout[b]; repeated pitches add. */
export async function pitchEmbeddingBackward(
  engine: Engine,
  pitches: Tensor,
  dout: Tensor,
  dtable: Tensor,
  o: { classes: number; dims: number; accumulate: boolean },
): Promise<Dispatch> {
  const op = 'pitchEmbeddingBackward';
  checkTable(op, o.classes, o.dims);
  const B = pitches.numel;
  if (B < 1) throw new Error(`${op}: no pitches`);
  expectNumel(op, 'dout', dout, B * o.dims);
  expectNumel(op, 'dtable', dtable, o.classes * o.dims);
  const k = await engine.kernel('embedding_scatter_add');
  return k.prepare(
    {
      params: { batch: B, classes: o.classes, dims: o.dims, accumulate: o.accumulate ? 1 : 0 },
      ids: pitches.binding,
      dout: dout.binding,
      dtable: dtable.binding,
    },
    [grid1d(o.classes * o.dims, 64)],
  );
}

export function pitchEmbeddingReference(table: Arr, pitches: ArrayLike<number>, dims: number): Float64Array {
  const classes = table.length / dims;
  const out = new Float64Array(pitches.length * dims);
  for (let b = 0; b < pitches.length; b++) {
    const p = pitches[b];
    if (p < classes) for (let d = 0; d < dims; d++) out[b * dims + d] = table[p * dims + d];
  }
  return out;
}

export function pitchEmbeddingBackwardReference(
  pitches: ArrayLike<number>,
  dout: Arr,
  classes: number,
  dims: number,
): Float64Array {
  const dtable = new Float64Array(classes * dims);
  for (let b = 0; b < pitches.length; b++) {
    const p = pitches[b];
    if (p < classes) for (let d = 0; d < dims; d++) dtable[p * dims + d] += dout[b * dims + d];
  }
  return dtable;
}
