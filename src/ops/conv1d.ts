// Host wrapper and reference for kernels/conv1d.wgsl: K-tap dilated 1-D convolution (K = 1 is a
// 1x1 conv, i.e. a matmul with bias), time-major [B, T, C], Magenta's weight layout [1, K, Cin, Cout].
import type { Engine } from '../gpu/engine.js';
import { lanesPreferred, lanesSupported } from '../gpu/lanes.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, expectRank, type Arr } from './common.js';

/**
 * Where the taps sit relative to output time t (d = dilation, K = 3):
 * causal t-2d, t-d, t; centred t-d, t, t+d; causal-shifted t-2d-1, t-d-1, t-1 (shift_right + causal).
 */
export type TapMode = 'causal' | 'centred' | 'causal-shifted';

export interface FrameBias {
  /** [B, frames, stride] rows; this layer's slice starts at `offset` in each row. */
  tensor: Tensor;
  stride: number;
  offset: number;
  /** Samples per frame (512). */
  frameLen: number;
}

/**
 * How a convolution kernel is shaped. `wide` (64 x 128 output tiles) and `narrow` (128 x 32) are
 * tiled matmuls through workgroup memory, for GPUs. `lanes` is for CPU adapters: one time row
 * (or weight row) per SIMD lane, the operand every lane shares read once per subgroup and passed
 * round by subgroupBroadcast, no workgroup memory; it needs the `subgroups` feature, subgroups of
 * 8 or more lanes, and channel counts divisible by 4.
 */
export type TileVariant = 'wide' | 'narrow' | 'lanes';

/**
 * Output columns up to which the narrow tile is chosen: `nsynth bench conv-tiles` on lavapipe, 4096 rows, reduction
 * 96: narrow 2.1-2.8x faster at 16-32 columns, 0.84-1.17x at 64, 0.55-0.63x at 128.
 */
export const NARROW_MAX_COLUMNS = 32;

export { lanesPreferred, lanesSupported } from '../gpu/lanes.js';

export interface TileShape {
  variant: TileVariant;
  suffix: string;
  /** Rows and columns of output per workgroup. */
  TM: number;
  TN: number;
}

const TILES: Record<TileVariant, TileShape> = {
  wide: { variant: 'wide', suffix: '', TM: 64, TN: 128 },
  narrow: { variant: 'narrow', suffix: '_narrow', TM: 128, TN: 32 },
  lanes: { variant: 'lanes', suffix: '_lanes', TM: 128, TN: 8 },
};

/**
 * The variant for a kernel with `columns` output columns. `lanesOk`: the engine prefers the lanes
 * kernels and this convolution's channel counts suit them. A forced variant is taken as given
 * (tests and benchmarks; forcing `lanes` where it cannot run is an error).
 */
export function tileFor(columns: number, forced?: TileVariant, lanesOk = false): TileShape {
  if (forced) return TILES[forced];
  if (lanesOk) return TILES.lanes;
  return columns <= NARROW_MAX_COLUMNS ? TILES.narrow : TILES.wide;
}

/** Checks that the lanes kernels can run this convolution (forced or chosen). */
export function lanesFit(engine: Engine, cin: number, cout: number): boolean {
  return lanesSupported(engine) && cin % 4 === 0 && cout % 4 === 0;
}

export interface Conv1dOptions {
  taps: number;
  dilation?: number;
  mode?: TapMode;
  reluIn?: boolean;
  reluOut?: boolean;
  /** y += conv(x) instead of y = conv(x) (residual and skip sums). */
  accumulate?: boolean;
  /** y = residual + conv(x), out of place (training keeps every layer's input for the backward pass). */
  residual?: Tensor;
  frameBias?: FrameBias;
  /** Force a kernel variant (tests and benchmarks); by default chosen from the adapter (lanesPreferred) and Cout. */
  tile?: TileVariant;
}

export function tapOffset(taps: number, dilation: number, mode: TapMode): number {
  const reach = (taps - 1) * dilation;
  if (mode === 'causal') return -reach;
  if (mode === 'causal-shifted') return -reach - 1;
  if ((taps - 1) % 2 !== 0) throw new Error(`centred conv needs an odd number of taps, got ${taps}`);
  return -reach / 2;
}

/** Prepares y = conv(x) for x [B, T, Cin], W [1, K, Cin, Cout], bias [Cout] or null, y [B, T, Cout]. */
export async function conv1d(
  engine: Engine,
  x: Tensor,
  W: Tensor,
  bias: Tensor | null,
  y: Tensor,
  o: Conv1dOptions,
): Promise<Dispatch> {
  expectRank('conv1d', 'x', x, 3);
  const [B, T, cin] = x.shape;
  const K = o.taps;
  const d = o.dilation ?? 1;
  if (W.shape.length !== 4 || W.shape[0] !== 1 || W.shape[1] !== K || W.shape[2] !== cin) {
    throw new Error(`conv1d: W has shape [${W.shape}], expected [1, ${K}, ${cin}, Cout]`);
  }
  const cout = W.shape[3];
  expectNumel('conv1d', 'y', y, B * T * cout);
  if (bias) expectNumel('conv1d', 'bias', bias, cout);
  const fb = o.frameBias;
  let frames = 1;
  if (fb) {
    if (T % fb.frameLen !== 0) throw new Error(`conv1d: T = ${T} is not a multiple of the frame length ${fb.frameLen}`);
    frames = T / fb.frameLen;
    if (fb.offset + cout > fb.stride)
      throw new Error(`conv1d: frame-bias slice ${fb.offset}+${cout} exceeds its row of ${fb.stride}`);
    expectNumel('conv1d', 'frame bias', fb.tensor, B * frames * fb.stride);
  }
  if (o.residual) expectNumel('conv1d', 'residual', o.residual, B * T * cout);
  const flags =
    (o.reluIn ? 1 : 0) |
    (o.reluOut ? 2 : 0) |
    (o.accumulate ? 4 : 0) |
    (bias ? 8 : 0) |
    (fb ? 16 : 0) |
    (o.residual ? 32 : 0);
  const tile = tileFor(cout, o.tile, lanesPreferred(engine) && lanesFit(engine, cin, cout));
  if (tile.variant === 'lanes' && !lanesFit(engine, cin, cout))
    throw new Error(
      `conv1d: the lanes kernel needs subgroups of 8+ lanes and Cin, Cout divisible by 4 (${cin}, ${cout})`,
    );
  const kernel = await engine.kernel(`conv1d${tile.suffix}`);
  return kernel.prepare(
    {
      params: {
        T,
        rows: B * T,
        cin,
        cout,
        taps: K,
        dilation: d,
        offset: tapOffset(K, d, o.mode ?? 'causal'),
        flags,
        frame_len: fb?.frameLen ?? 1,
        frames,
        fb_stride: fb?.stride ?? 0,
        fb_offset: fb?.offset ?? 0,
      },
      x: x.binding,
      W: W.binding,
      bias: bias?.binding ?? engine.dummy,
      fbias: fb?.tensor.binding ?? engine.dummy,
      resid: o.residual?.binding ?? engine.dummy,
      y: y.binding,
    },
    [Math.ceil(cout / tile.TN), Math.ceil((B * T) / tile.TM)],
  );
}

export interface FrameBiasRef {
  data: Arr;
  stride: number;
  offset: number;
  frameLen: number;
}

/** Plain reference. x [B, T, Cin]; returns y [B, T, Cout] in float64 (yInit is added when accumulating). */
export function conv1dReference(
  x: Arr,
  shape: [number, number, number],
  W: Arr,
  bias: Arr | null,
  cout: number,
  o: Omit<Conv1dOptions, 'frameBias' | 'residual'> & { frameBias?: FrameBiasRef; residual?: Arr },
  yInit?: Arr,
): Float64Array {
  const [B, T, cin] = shape;
  const K = o.taps;
  const d = o.dilation ?? 1;
  const off = tapOffset(K, d, o.mode ?? 'causal');
  const y = new Float64Array(B * T * cout);
  const frames = o.frameBias ? T / o.frameBias.frameLen : 1;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const yo = (b * T + t) * cout;
      for (let co = 0; co < cout; co++) y[yo + co] = bias ? bias[co] : 0;
      if (o.frameBias) {
        const fb = o.frameBias;
        const base = (b * frames + Math.floor(t / fb.frameLen)) * fb.stride + fb.offset;
        for (let co = 0; co < cout; co++) y[yo + co] += fb.data[base + co];
      }
      for (let k = 0; k < K; k++) {
        const ts = t + k * d + off;
        if (ts < 0 || ts >= T) continue;
        const xo = (b * T + ts) * cin;
        for (let ci = 0; ci < cin; ci++) {
          let v = x[xo + ci];
          if (o.reluIn && v < 0) v = 0;
          if (v === 0) continue;
          const wo = (k * cin + ci) * cout;
          for (let co = 0; co < cout; co++) y[yo + co] += v * W[wo + co];
        }
      }
      for (let co = 0; co < cout; co++) {
        if (o.accumulate && yInit) y[yo + co] += yInit[yo + co];
        if (o.residual) y[yo + co] += o.residual[yo + co];
        if (o.reluOut && y[yo + co] < 0) y[yo + co] = 0;
      }
    }
  }
  return y;
}
