// Host wrappers and reference for the two backward kernels of conv1d:
// kernels/conv1d_backward_input.wgsl (dx, the transposed convolution) and
// kernels/conv1d_backward_weight.wgsl + conv1d_backward_weight_sum.wgsl (dW and dbias, split over time).
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';
import { lanesFit, lanesPreferred, tapOffset, tileFor, type TapMode, type TileVariant } from './conv1d.js';

/** The forward conv being differentiated: its input/output shapes and fused options. */
export interface ConvShape {
  B: number;
  T: number;
  cin: number;
  cout: number;
  taps: number;
  dilation: number;
  mode: TapMode;
  reluIn: boolean;
  reluOut: boolean;
  /** Force a tile variant (tests and benchmarks); by default chosen from the output columns. */
  tile?: TileVariant;
}

/**
 * dx (+)= d conv / d x. `x` is the forward input (read only for its ReLU mask), `y` the forward
 * output (read only for its ReLU mask).
 */
export async function conv1dBackwardInput(
  engine: Engine,
  s: ConvShape,
  dy: Tensor,
  W: Tensor,
  x: Tensor,
  y: Tensor,
  dx: Tensor,
  accumulate: boolean,
): Promise<Dispatch> {
  const rows = s.B * s.T;
  expectNumel('conv1dBackwardInput', 'dy', dy, rows * s.cout);
  expectNumel('conv1dBackwardInput', 'dx', dx, rows * s.cin);
  expectNumel('conv1dBackwardInput', 'W', W, s.taps * s.cin * s.cout);
  const flags = (s.reluIn ? 1 : 0) | (s.reluOut ? 2 : 0) | (accumulate ? 4 : 0);
  const tile = variantFor(engine, s, s.cin);
  const k = await engine.kernel(`conv1d_backward_input${tile.suffix}`);
  return k.prepare(
    {
      params: {
        T: s.T,
        rows,
        cin: s.cin,
        cout: s.cout,
        taps: s.taps,
        dilation: s.dilation,
        offset: tapOffset(s.taps, s.dilation, s.mode),
        flags,
      },
      dy: dy.binding,
      W: W.binding,
      x: s.reluIn ? x.binding : engine.dummy,
      y: s.reluOut ? y.binding : engine.dummy,
      dx: dx.binding,
    },
    [Math.ceil(s.cin / tile.TN), Math.ceil(rows / tile.TM)],
  );
}

/** The kernel variant for one of the convolution's kernels with `columns` output columns. */
function variantFor(engine: Engine | null, s: ConvShape, columns: number) {
  const fits = engine !== null && lanesFit(engine, s.cin, s.cout);
  const tile = tileFor(columns, s.tile, fits && lanesPreferred(engine));
  if (tile.variant === 'lanes' && !fits)
    throw new Error(
      `conv1d backward: the lanes kernels need subgroups of 8+ lanes and Cin, Cout divisible by 4 (${s.cin}, ${s.cout})`,
    );
  return tile;
}

/** Weight rows and output channels per workgroup of conv1d_backward_weight_lanes. */
const LANES_WEIGHT_TILE = { rows: 32, columns: 32 };

/**
 * Time chunks for the weight gradient: enough workgroups to fill a GPU when the weight tile count
 * is small, never chunks shorter than 256 rows (each chunk writes a full partial dW). The lanes
 * kernel (CPU adapters) wants few, long chunks: about 16 workgroups in all, chunks of 1024+ rows.
 */
export function weightGradChunks(s: ConvShape, engine: Engine | null): { chunks: number; chunk: number } {
  const rows = s.B * s.T;
  const t = variantFor(engine, s, s.cout);
  let chunks: number;
  if (t.variant === 'lanes') {
    const tiles = Math.ceil(s.cout / LANES_WEIGHT_TILE.columns) * Math.ceil((s.taps * s.cin) / LANES_WEIGHT_TILE.rows);
    chunks = Math.max(1, Math.min(Math.ceil(16 / tiles), Math.floor(rows / 1024)));
  } else {
    const tiles = Math.ceil(s.cout / t.TN) * Math.ceil((s.taps * s.cin + 1) / t.TM);
    chunks = Math.max(1, Math.min(64, Math.ceil(64 / tiles), Math.floor(rows / 256)));
  }
  const chunk = Math.ceil(rows / chunks / 16) * 16;
  chunks = Math.ceil(rows / chunk);
  return { chunks, chunk };
}

/** Floats of scratch the weight gradient needs (reuse one buffer of the largest size across convs). */
export function weightGradScratch(s: ConvShape, engine: Engine | null): number {
  return weightGradChunks(s, engine).chunks * (s.taps * s.cin + 1) * s.cout;
}

/** dW (+)= d conv / d W and dbias (+)= d conv / d bias (dbias null when the conv has none): two dispatches. */
export async function conv1dBackwardWeight(
  engine: Engine,
  s: ConvShape,
  x: Tensor,
  dy: Tensor,
  y: Tensor,
  dW: Tensor,
  dbias: Tensor | null,
  scratch: Tensor,
  accumulate: { W: boolean; bias: boolean },
): Promise<Dispatch[]> {
  const rows = s.B * s.T;
  expectNumel('conv1dBackwardWeight', 'x', x, rows * s.cin);
  expectNumel('conv1dBackwardWeight', 'dy', dy, rows * s.cout);
  expectNumel('conv1dBackwardWeight', 'dW', dW, s.taps * s.cin * s.cout);
  if (dbias) expectNumel('conv1dBackwardWeight', 'dbias', dbias, s.cout);
  const { chunks, chunk } = weightGradChunks(s, engine);
  const wrows = s.taps * s.cin + 1;
  if (scratch.numel < chunks * wrows * s.cout)
    throw new Error(`conv1dBackwardWeight: scratch holds ${scratch.numel} floats, needs ${chunks * wrows * s.cout}`);
  const tile = variantFor(engine, s, s.cout);
  const kPart = await engine.kernel(`conv1d_backward_weight${tile.suffix}`);
  const kSum = await engine.kernel('conv1d_backward_weight_sum');
  const flags = (s.reluIn ? 1 : 0) | (s.reluOut ? 2 : 0);
  const part = kPart.prepare(
    {
      params: {
        T: s.T,
        rows,
        cin: s.cin,
        cout: s.cout,
        taps: s.taps,
        dilation: s.dilation,
        offset: tapOffset(s.taps, s.dilation, s.mode),
        flags,
        chunk,
      },
      x: x.binding,
      dy: dy.binding,
      y: s.reluOut ? y.binding : engine.dummy,
      part: scratch.binding,
    },
    tile.variant === 'lanes'
      ? [Math.ceil(s.cout / LANES_WEIGHT_TILE.columns), Math.ceil((s.taps * s.cin) / LANES_WEIGHT_TILE.rows), chunks]
      : [Math.ceil(s.cout / tile.TN), Math.ceil(wrows / tile.TM), chunks],
  );
  const nW = s.taps * s.cin * s.cout;
  const sumFlags = (accumulate.W ? 1 : 0) | (accumulate.bias ? 2 : 0) | (dbias ? 4 : 0);
  const sum = kSum.prepare(
    {
      params: { n_w: nW, n_b: s.cout, chunks, flags: sumFlags },
      part: scratch.binding,
      dW: dW.binding,
      dbias: dbias?.binding ?? engine.dummyOut,
    },
    [grid1d(nW + s.cout, 256, 4096)],
  );
  return [part, sum];
}

export interface ConvGradsReference {
  dx: Float64Array;
  dW: Float64Array;
  dbias: Float64Array;
  /** Gradient of a per-frame bias [B, T/frameLen, Cout] (when frameLen is given). */
  dframe: Float64Array;
  /** The output gradient after the output ReLU mask: also the gradient of a residual input. */
  g: Float64Array;
}

/** Plain float64 reference of every gradient of conv1d (x, W, bias, frame bias, residual input). */
export function conv1dBackwardReference(
  s: ConvShape,
  x: Arr,
  W: Arr,
  y: Arr | null,
  dy: Arr,
  frameLen = 0,
): ConvGradsReference {
  const { B, T, cin, cout, taps: K, dilation: d } = s;
  const off = tapOffset(K, d, s.mode);
  const g = Float64Array.from(dy, (v, i) => (s.reluOut && y && y[i] <= 0 ? 0 : v));
  const dx = new Float64Array(B * T * cin);
  const dW = new Float64Array(K * cin * cout);
  const dbias = new Float64Array(cout);
  const F = frameLen > 0 ? T / frameLen : 0;
  const dframe = new Float64Array(B * F * cout);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const go = (b * T + t) * cout;
      for (let co = 0; co < cout; co++) {
        dbias[co] += g[go + co];
        if (F) dframe[(b * F + Math.floor(t / frameLen)) * cout + co] += g[go + co];
      }
      for (let k = 0; k < K; k++) {
        const ts = t + k * d + off;
        if (ts < 0 || ts >= T) continue;
        const xo = (b * T + ts) * cin;
        for (let ci = 0; ci < cin; ci++) {
          const xv = x[xo + ci];
          const xr = s.reluIn && xv < 0 ? 0 : xv;
          const wo = (k * cin + ci) * cout;
          let acc = 0;
          for (let co = 0; co < cout; co++) {
            dW[wo + co] += xr * g[go + co];
            acc += g[go + co] * W[wo + co];
          }
          if (!s.reluIn || xv > 0) dx[xo + ci] += acc;
        }
      }
    }
  }
  return { dx, dW, dbias, dframe, g };
}
