// Host wrappers and references for kernels/concat_one_hot.wgsl (the embedding with a one-hot pitch
// appended to every frame), kernels/concat_one_hot_backward.wgsl (its backward pass for the
// embedding) and kernels/channel_slice.wgsl (a run of channels: the backward pass of a plain
// concatenation, as in the spectrogram baseline).
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, expectRank, grid1d, type Arr } from './common.js';

/**
 * Bit 31 of an item's class: training with embedding dropout (`--embedding-dropout`) marks an item
 * whose embedding is replaced by zeros (its pitch, the lower bits, stays), so that the decoder
 * learns to follow the pitch one-hot where the embedding says nothing.
 */
export const EMBEDDING_DROPPED = 0x80000000;

/** x [B, F, C], cls [B] -> out [B, F, C + classes] (zeros in place of x for a class marked EMBEDDING_DROPPED). */
export async function concatOneHot(
  engine: Engine,
  x: Tensor,
  cls: Tensor,
  classes: number,
  out: Tensor,
): Promise<Dispatch> {
  expectRank('concatOneHot', 'x', x, 3);
  const [B, F, C] = x.shape;
  expectNumel('concatOneHot', 'cls', cls, B);
  const total = B * F * (C + classes);
  expectNumel('concatOneHot', 'out', out, total);
  const k = await engine.kernel('concat_one_hot');
  return k.prepare(
    { params: { frames: F, channels: C, classes, total }, x: x.binding, cls: cls.binding, out: out.binding },
    [grid1d(total, 256)],
  );
}

export function concatOneHotReference(
  x: Arr,
  [B, F, C]: [number, number, number],
  cls: ArrayLike<number>,
  classes: number,
): Float64Array {
  const W = C + classes;
  const out = new Float64Array(B * F * W);
  for (let b = 0; b < B; b++) {
    const dropped = cls[b] >= EMBEDDING_DROPPED;
    const k = dropped ? cls[b] - EMBEDDING_DROPPED : cls[b];
    for (let f = 0; f < F; f++) {
      if (!dropped) for (let c = 0; c < C; c++) out[(b * F + f) * W + c] = x[(b * F + f) * C + c];
      // A class outside 0..classes-1 gets no one (the kernel reads classes as u32: none is negative).
      if (k >= 0 && k < classes) out[(b * F + f) * W + C + k] = 1;
    }
  }
  return out;
}

/** The gradient of concatOneHot for x: out [B, F, C] (+)= g[..., :C], zeros for an item marked EMBEDDING_DROPPED. */
export async function concatOneHotBackward(
  engine: Engine,
  g: Tensor,
  cls: Tensor,
  classes: number,
  out: Tensor,
  accumulate: boolean,
): Promise<Dispatch> {
  expectRank('concatOneHotBackward', 'out', out, 3);
  const [B, F, C] = out.shape;
  expectNumel('concatOneHotBackward', 'cls', cls, B);
  expectNumel('concatOneHotBackward', 'g', g, B * F * (C + classes));
  const total = B * F * C;
  const k = await engine.kernel('concat_one_hot_backward');
  return k.prepare(
    {
      params: { frames: F, channels: C, classes, total, accumulate: accumulate ? 1 : 0 },
      g: g.binding,
      cls: cls.binding,
      out: out.binding,
    },
    [grid1d(total, 256)],
  );
}

export function concatOneHotBackwardReference(
  g: Arr,
  [B, F, C]: [number, number, number],
  cls: ArrayLike<number>,
  classes: number,
): Float64Array {
  // The embedding's channels of g (a plain concatenation's backward), then nothing for a dropped item.
  const out = channelSliceReference(g, C + classes, 0, C);
  for (let b = 0; b < B; b++) if (cls[b] >= EMBEDDING_DROPPED) out.fill(0, b * F * C, (b + 1) * F * C);
  return out;
}

/** out[r, :] (+)= x[r, offset : offset + outChannels] over rows of x's last dimension. */
export async function channelSlice(
  engine: Engine,
  x: Tensor,
  offset: number,
  out: Tensor,
  accumulate: boolean,
): Promise<Dispatch> {
  const inC = x.shape[x.shape.length - 1];
  const rows = x.numel / inC;
  const outC = out.numel / rows;
  if (!Number.isInteger(outC) || offset + outC > inC)
    throw new Error(`channelSlice: channels ${offset}..${offset + outC} outside ${inC}`);
  const k = await engine.kernel('channel_slice');
  return k.prepare(
    {
      params: { rows, in_channels: inC, out_channels: outC, offset, accumulate: accumulate ? 1 : 0 },
      x: x.binding,
      out: out.binding,
    },
    [grid1d(rows * outC, 256)],
  );
}

export function channelSliceReference(x: Arr, inChannels: number, offset: number, outChannels: number): Float64Array {
  const rows = x.length / inChannels;
  const out = new Float64Array(rows * outChannels);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < outChannels; c++) out[r * outChannels + c] = x[r * inChannels + offset + c];
  return out;
}
