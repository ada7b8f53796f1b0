// Host wrapper and reference for kernels/channel_place.wgsl: the forward of channel concatenation
// (one call per part, each into its run of channels); its backward is channelSlice
// (src/ops/concat-one-hot.ts).
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';

function checkPlace(rows: number, inChannels: number, outChannels: number, offset: number): void {
  for (const [name, v] of Object.entries({ rows, inChannels, outChannels, offset }))
    if (!Number.isInteger(v) || v < 0) throw new Error(`channelPlace: ${name} ${v} is not a non-negative integer`);
  if (offset + inChannels > outChannels)
    throw new Error(`channelPlace: channels ${offset}..${offset + inChannels} outside ${outChannels}`);
}

/** out[r, offset + c] = x[r, c] for c < x's channels; out rows have outChannels channels; the rest of out is untouched. */
export async function channelPlace(
  engine: Engine,
  x: Tensor,
  out: Tensor,
  o: { rows: number; inChannels: number; outChannels: number; offset: number },
): Promise<Dispatch> {
  checkPlace(o.rows, o.inChannels, o.outChannels, o.offset);
  expectNumel('channelPlace', 'x', x, o.rows * o.inChannels);
  expectNumel('channelPlace', 'out', out, o.rows * o.outChannels);
  const total = o.rows * o.inChannels;
  const k = await engine.kernel('channel_place');
  return k.prepare(
    {
      params: { rows: o.rows, in_channels: o.inChannels, out_channels: o.outChannels, offset: o.offset },
      x: x.binding,
      out: out.binding,
    },
    [grid1d(total, 256)],
  );
}

/** Places x into `into` (returned) or into zeros. */
export function channelPlaceReference(
  x: Arr,
  rows: number,
  inChannels: number,
  outChannels: number,
  offset: number,
  into?: Float64Array,
): Float64Array {
  checkPlace(rows, inChannels, outChannels, offset);
  const out = into ?? new Float64Array(rows * outChannels);
  if (out.length !== rows * outChannels)
    throw new Error(`channelPlaceReference: into has ${out.length} values, expected ${rows * outChannels}`);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < inChannels; c++) out[r * outChannels + offset + c] = x[r * inChannels + c];
  return out;
}
