// Host wrappers and references for kernels/concat_one_hot.wgsl (the embedding with a one-hot pitch
// appended to every frame) and kernels/channel_slice.wgsl (its backward pass: the embedding's channels).
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, expectRank, grid1d, type Arr } from './common.js';

/** x [B, F, C], cls [B] -> out [B, F, C + classes]. */
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
    for (let f = 0; f < F; f++) {
      for (let c = 0; c < C; c++) out[(b * F + f) * W + c] = x[(b * F + f) * C + c];
      // A class outside 0..classes-1 gets no one (the kernel reads classes as u32: none is negative).
      if (cls[b] >= 0 && cls[b] < classes) out[(b * F + f) * W + C + cls[b]] = 1;
    }
  }
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
