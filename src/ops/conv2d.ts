// Host wrappers and references for the 2-D convolutions of the spectrogram baseline autoencoder
// (NHWC, weights [kh, kw, Cin, Cout] as TensorFlow, TF 'SAME' padding, any strides):
// kernels/conv2d.wgsl (forward), kernels/conv2d_backward_input.wgsl (dx, which is also the forward
// of a transposed conv) and kernels/conv2d_backward_weight.wgsl + conv2d_backward_weight_sum.wgsl
// (dw and dbias, split over the output positions). Each has a `_lanes` variant for CPU adapters
// (src/gpu/lanes.ts: chosen where lanesPreferred, for Cout divisible by 4), which passes the operand
// all lanes share round by subgroupBroadcast instead of reading it per lane; the plain kernels give
// each thread a block of up to 8 channels, for GPUs and every other shape.
import type { Engine } from '../gpu/engine.js';
import { lanesPreferred } from '../gpu/lanes.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';

/** x [B, H, W, cin] -> y [B, OH, OW, cout], OH = ceil(H / sh), OW = ceil(W / sw), TF SAME padding. */
export interface Conv2dShape {
  B: number;
  H: number;
  W: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
}

/** Output size and TF SAME padding: padTop = floor(max((OH - 1) * sh + kh - H, 0) / 2), padLeft likewise. */
export function conv2dGeometry(s: Conv2dShape): { OH: number; OW: number; padTop: number; padLeft: number } {
  const OH = Math.ceil(s.H / s.sh);
  const OW = Math.ceil(s.W / s.sw);
  // TF puts the odd padding pixel at the bottom / right.
  const padTop = Math.floor(Math.max((OH - 1) * s.sh + s.kh - s.H, 0) / 2);
  const padLeft = Math.floor(Math.max((OW - 1) * s.sw + s.kw - s.W, 0) / 2);
  return { OH, OW, padTop, padLeft };
}

function checkShape(op: string, s: Conv2dShape): void {
  for (const k of ['B', 'H', 'W', 'cin', 'cout', 'kh', 'kw', 'sh', 'sw'] as const) {
    const v = s[k];
    if (!Number.isInteger(v) || v < 1) throw new Error(`${op}: shape field ${k} is ${v}, expected a positive integer`);
  }
}

/** The uniform fields every conv2d kernel shares. */
function geometryParams(s: Conv2dShape) {
  const g = conv2dGeometry(s);
  return {
    H: s.H,
    W: s.W,
    cin: s.cin,
    OH: g.OH,
    OW: g.OW,
    cout: s.cout,
    kh: s.kh,
    kw: s.kw,
    sh: s.sh,
    sw: s.sw,
    pad_top: g.padTop,
    pad_left: g.padLeft,
  };
}

/** Invocations per workgroup of the lanes kernels (each owns two pixels of the forward and input gradient). */
const LANES = 64;

/**
 * Whether to run the lanes kernels (kernels/conv2d*_lanes.wgsl): on CPU adapters with subgroups
 * (lanesPreferred), when Cout is a multiple of 4 (all three read w or dy rows as vec4 of output
 * channels). Cin may be anything: 8-channel blocks are masked at the edge.
 */
function useLanes(engine: Engine, cout: number): boolean {
  return lanesPreferred(engine) && cout % 4 === 0;
}

/** Channels one thread owns: the largest divisor of n up to 8 (kernels keep 8 accumulators). */
function channelBlock(n: number): number {
  for (let c = Math.min(8, n); c > 1; c--) if (n % c === 0) return c;
  return 1;
}

/** y (+)= bias + conv(x, w). bias may be null (no bias). */
export async function conv2d(
  engine: Engine,
  s: Conv2dShape,
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  y: Tensor,
  accumulate = false,
): Promise<Dispatch> {
  checkShape('conv2d', s);
  const { OH, OW } = conv2dGeometry(s);
  const pixels = s.B * OH * OW;
  expectNumel('conv2d', 'x', x, s.B * s.H * s.W * s.cin);
  expectNumel('conv2d', 'w', w, s.kh * s.kw * s.cin * s.cout);
  if (bias) expectNumel('conv2d', 'bias', bias, s.cout);
  expectNumel('conv2d', 'y', y, pixels * s.cout);
  const params = { ...geometryParams(s), pixels, flags: (bias ? 1 : 0) | (accumulate ? 2 : 0) };
  const bindings = { x: x.binding, w: w.binding, bias: bias?.binding ?? engine.dummy, y: y.binding };
  if (useLanes(engine, s.cout)) {
    const k = await engine.kernel('conv2d_lanes', { CIN_VEC: s.cin % 4 === 0 ? 1 : 0 });
    return k.prepare({ params, ...bindings }, [grid1d(pixels, 2 * LANES), Math.ceil(s.cout / 8)]);
  }
  const CB = channelBlock(s.cout);
  const k = await engine.kernel('conv2d', { CB });
  return k.prepare({ params, ...bindings }, [grid1d(pixels, 64), s.cout / CB]);
}

/**
 * dx (+)= the gradient of conv2d with respect to x given dy [B, OH, OW, cout] (this is also the
 * FORWARD of a transposed conv: TF conv2d_transpose from [B,OH,OW,cout] up to [B,H,W,cin] with filter
 * [kh,kw,cin,cout]).
 */
export async function conv2dBackwardInput(
  engine: Engine,
  s: Conv2dShape,
  dy: Tensor,
  w: Tensor,
  dx: Tensor,
  accumulate: boolean,
): Promise<Dispatch> {
  checkShape('conv2dBackwardInput', s);
  const { OH, OW } = conv2dGeometry(s);
  const total = s.B * s.H * s.W * s.cin;
  expectNumel('conv2dBackwardInput', 'dy', dy, s.B * OH * OW * s.cout);
  expectNumel('conv2dBackwardInput', 'w', w, s.kh * s.kw * s.cin * s.cout);
  expectNumel('conv2dBackwardInput', 'dx', dx, total);
  const params = { ...geometryParams(s), B: s.B, accumulate: accumulate ? 1 : 0 };
  const bindings = { dy: dy.binding, w: w.binding, dx: dx.binding };
  // Workgroup z is the stride phase; x covers the largest phase's pixels.
  const phasePixels = s.B * Math.ceil(s.H / s.sh) * Math.ceil(s.W / s.sw);
  if (useLanes(engine, s.cout)) {
    const k = await engine.kernel('conv2d_backward_input_lanes');
    return k.prepare({ params, ...bindings }, [grid1d(phasePixels, 2 * LANES), Math.ceil(s.cin / 8), s.sh * s.sw]);
  }
  const CB = channelBlock(s.cin);
  const k = await engine.kernel('conv2d_backward_input', { CB });
  return k.prepare({ params, ...bindings }, [grid1d(phasePixels, 64), s.cin / CB, s.sh * s.sw]);
}

/** Threads the chunked weight gradient aims for: about a full H200 (132 SMs x 2048 threads is 270K). */
const WEIGHT_GRAD_THREADS = 1 << 17;
/** Shortest chunk: each chunk writes a whole partial gradient, so it should sum many more terms than that. */
const MIN_CHUNK = 64;
/** Longest chunk: the most products one thread sums serially (also bounds the f32 rounding of a sum). */
const MAX_CHUNK = 4096;

/**
 * How the weight gradient splits the B*OH*OW output positions: enough chunks that chunks x threads
 * per chunk (a thread per weight row (i, j, ci) and the bias row, per block of up to 8 output
 * channels) fill a GPU, none shorter than MIN_CHUNK, none longer than MAX_CHUNK. Depends on the
 * shape only (not on whether there is a bias, nor on the kernel variant), so the scratch size does too.
 */
function weightGradChunks(s: Conv2dShape): { chunks: number; chunk: number } {
  const { OH, OW } = conv2dGeometry(s);
  const rows = s.B * OH * OW;
  const perChunk = (s.kh * s.kw * s.cin + 1) * Math.ceil(s.cout / 8);
  const wanted = Math.min(Math.ceil(WEIGHT_GRAD_THREADS / perChunk), Math.floor(rows / MIN_CHUNK));
  let chunks = Math.max(1, Math.ceil(rows / MAX_CHUNK), wanted);
  // Chunks are the grid's y dimension.
  chunks = Math.min(chunks, 65535);
  const chunk = Math.ceil(rows / chunks);
  return { chunks: Math.ceil(rows / chunk), chunk };
}

/** Floats of scratch conv2dBackwardWeight needs for shape s (0 if none). */
export function conv2dWeightGradScratch(s: Conv2dShape): number {
  checkShape('conv2dWeightGradScratch', s);
  const { chunks } = weightGradChunks(s);
  // One chunk sums straight into dw and dbias.
  return chunks > 1 ? chunks * (s.kh * s.kw * s.cin * s.cout + s.cout) : 0;
}

/**
 * dw [kh,kw,cin,cout] (+)= sum over b,oh,ow of x * dy; dbias [cout] (+)= sum of dy (dbias may be
 * null). accumulate applies to both. Returns the dispatches to run in order.
 */
export async function conv2dBackwardWeight(
  engine: Engine,
  s: Conv2dShape,
  x: Tensor,
  dy: Tensor,
  dw: Tensor,
  dbias: Tensor | null,
  scratch: Tensor | null,
  accumulate: boolean,
): Promise<Dispatch[]> {
  const op = 'conv2dBackwardWeight';
  checkShape(op, s);
  const { OH, OW } = conv2dGeometry(s);
  const rows = s.B * OH * OW;
  const nW = s.kh * s.kw * s.cin * s.cout;
  expectNumel(op, 'x', x, s.B * s.H * s.W * s.cin);
  expectNumel(op, 'dy', dy, rows * s.cout);
  expectNumel(op, 'dw', dw, nW);
  if (dbias) expectNumel(op, 'dbias', dbias, s.cout);
  const { chunks, chunk } = weightGradChunks(s);
  const direct = chunks === 1;
  const need = conv2dWeightGradScratch(s);
  if (!direct && (scratch === null || scratch.numel < need))
    throw new Error(
      `${op}: scratch ${scratch ? `holds ${scratch.numel} floats` : 'is null'}, needs ${need} ` +
        `(conv2dWeightGradScratch) for ${chunks} chunks of ${chunk} output positions`,
    );
  const flags = (dbias ? 1 : 0) | (direct ? 2 : 0) | (accumulate ? 4 : 0);
  const params = { ...geometryParams(s), rows, chunk, n_w: nW, flags };
  const bindings = {
    x: x.binding,
    dy: dy.binding,
    dw: direct ? dw.binding : scratch!.binding,
    dbias: direct && dbias ? dbias.binding : engine.dummyOut,
  };
  let part: Dispatch;
  if (useLanes(engine, s.cout)) {
    const vec = s.cin % 4 === 0;
    const laneRows = s.kh * s.kw * (vec ? s.cin / 4 : s.cin);
    const kPart = await engine.kernel('conv2d_backward_weight_lanes', { CIN_VEC: vec ? 1 : 0 });
    part = kPart.prepare({ params, ...bindings }, [Math.ceil(laneRows / 8), Math.ceil(s.cout / 8), chunks]);
  } else {
    const CB = channelBlock(s.cout);
    const kPart = await engine.kernel('conv2d_backward_weight', { CB });
    const threads = (s.kh * s.kw * s.cin + (dbias ? 1 : 0)) * (s.cout / CB);
    part = kPart.prepare({ params, ...bindings }, [grid1d(threads, 64), chunks]);
  }
  if (direct) return [part];
  const kSum = await engine.kernel('conv2d_backward_weight_sum');
  const sum = kSum.prepare(
    {
      params: { n_w: nW, cout: s.cout, chunks, flags },
      part: scratch!.binding,
      dw: dw.binding,
      dbias: dbias?.binding ?? engine.dummyOut,
    },
    [grid1d(nW + (dbias ? s.cout : 0), 256)],
  );
  return [part, sum];
}

/** Float64 conv2d, the math of kernels/conv2d.wgsl (what the gradient references differentiate). */
export function conv2dReference(s: Conv2dShape, x: Arr, w: Arr, bias: Arr | null): Float64Array {
  const { B, H, W, cin, cout, kh, kw, sh, sw } = s;
  const { OH, OW, padTop, padLeft } = conv2dGeometry(s);
  const y = new Float64Array(B * OH * OW * cout);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const yo = ((b * OH + oh) * OW + ow) * cout;
        if (bias) for (let co = 0; co < cout; co++) y[yo + co] = bias[co];
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh + i - padTop;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < kw; j++) {
            const iw = ow * sw + j - padLeft;
            if (iw < 0 || iw >= W) continue;
            const xo = ((b * H + ih) * W + iw) * cin;
            for (let ci = 0; ci < cin; ci++) {
              const xv = x[xo + ci];
              const wo = ((i * kw + j) * cin + ci) * cout;
              for (let co = 0; co < cout; co++) y[yo + co] += xv * w[wo + co];
            }
          }
        }
      }
    }
  }
  return y;
}

/** Float64 gradient of conv2d with respect to x (the transposed conv): scatters what the forward gathers. */
export function conv2dBackwardInputReference(s: Conv2dShape, dy: Arr, w: Arr): Float64Array {
  const { B, H, W, cin, cout, kh, kw, sh, sw } = s;
  const { OH, OW, padTop, padLeft } = conv2dGeometry(s);
  const dx = new Float64Array(B * H * W * cin);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const go = ((b * OH + oh) * OW + ow) * cout;
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh + i - padTop;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < kw; j++) {
            const iw = ow * sw + j - padLeft;
            if (iw < 0 || iw >= W) continue;
            const xo = ((b * H + ih) * W + iw) * cin;
            for (let ci = 0; ci < cin; ci++) {
              const wo = ((i * kw + j) * cin + ci) * cout;
              let acc = 0;
              for (let co = 0; co < cout; co++) acc += dy[go + co] * w[wo + co];
              dx[xo + ci] += acc;
            }
          }
        }
      }
    }
  }
  return dx;
}

/** Float64 gradients of conv2d with respect to its weights and bias. */
export function conv2dBackwardWeightReference(
  s: Conv2dShape,
  x: Arr,
  dy: Arr,
): { dw: Float64Array; dbias: Float64Array } {
  const { B, H, W, cin, cout, kh, kw, sh, sw } = s;
  const { OH, OW, padTop, padLeft } = conv2dGeometry(s);
  const dw = new Float64Array(kh * kw * cin * cout);
  const dbias = new Float64Array(cout);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const go = ((b * OH + oh) * OW + ow) * cout;
        for (let co = 0; co < cout; co++) dbias[co] += dy[go + co];
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh + i - padTop;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < kw; j++) {
            const iw = ow * sw + j - padLeft;
            if (iw < 0 || iw >= W) continue;
            const xo = ((b * H + ih) * W + iw) * cin;
            for (let ci = 0; ci < cin; ci++) {
              const xv = x[xo + ci];
              const wo = ((i * kw + j) * cin + ci) * cout;
              for (let co = 0; co < cout; co++) dw[wo + co] += xv * dy[go + co];
            }
          }
        }
      }
    }
  }
  return { dw, dbias };
}
