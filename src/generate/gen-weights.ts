// The decoder's weights re-laid out for one-sample steps: taps split into past (t-2d, t-d) and
// current (t), residual and skip side by side, the small tensors in one buffer, and the biases
// that are constant over a frame folded into the per-frame conditioning (spec §2.2), whose
// projections of every layer are packed side by side so that one matmul conditions them all.
import type { Engine } from '../gpu/engine.js';
import type { Tensor } from '../gpu/tensor.js';
import { conditioningWidth, decoderLayers, type ModelConfig } from '../model/config.js';
import type { Weights } from '../model/weights.js';
import { exactHalfPairs } from '../formats/half.js';
import type { AllWeightOffsets, SmallWeightOffsets } from '../ops/gen-step.js';
import { buildFusedWeights, type FusedWeights, halfPairs, type WeightStorage } from './fused-weights.js';

export interface GenWeights {
  /** [L][2R][2R]: taps t-2d and t-d of every dilated conv. */
  wPast: Tensor;
  /** [L][R][2R]: tap t. */
  wCur: Tensor;
  /** [L][R][R+S]: res_i and skip_i side by side. */
  wResSkip: Tensor;
  /** The small tensors (start conv, skip_start, res/skip biases, out1, logits) at `smallOffsets`. */
  small: Tensor;
  smallOffsets: SmallWeightOffsets;
  /** Everything above in one buffer, for the one-workgroup-per-voice path (small configs only). */
  all: Tensor | null;
  /**
   * `all` as f16 pairs for gen_voice_lanes_f16, where the config fits the voice-lanes kernel and every
   * weight is exactly an f16 (a model stored as f16, like the shipped one): the same values, half
   * the bytes to read. Null otherwise.
   */
  allF16: Tensor | null;
  allOffsets: AllWeightOffsets;
  /** [1, 1, E, L*2R + S]: cond_map_1..L then cond_map_out1. */
  condW: Tensor;
  /** [L*2R + S]: cond biases + dilated-conv biases, then cond_out1 + out1 biases. */
  condB: Tensor;
  /**
   * The fused path's weights in the given storage and layout (`rows`: a row per output, for
   * lib_gen_layer_rows), built on first use (fused-weights.ts).
   */
  fused(storage: WeightStorage, rows?: boolean): Promise<FusedWeights>;
  /**
   * wPast, wCur or wResSkip as f16 pairs, each built on first use and kept with these weights: f16
   * storage on the layered path and (past, resSkip) the fused path (half the bytes; weights that
   * are not exact halves are rounded).
   */
  half(m: HalfMatrix): Tensor;
  release(): void;
}

/** The matrices GenWeights.half stores as f16 pairs: wPast, wCur, wResSkip. */
export type HalfMatrix = 'past' | 'cur' | 'resSkip';

export function checkGeneratable(c: ModelConfig, maxBinding: number): void {
  const { residual: R, skip: S } = c.decoder;
  if (R % 4 || S % 4)
    throw new Error(`config ${c.name}: fast generation needs residual and skip widths divisible by 4`);
  if (S > 1024) throw new Error(`config ${c.name}: fast generation supports skip width up to 1024`);
  if (c.numClasses !== 256) throw new Error(`config ${c.name}: fast generation samples 256 classes`);
  const pastBytes = decoderLayers(c) * 4 * R * R * 4;
  if (pastBytes > maxBinding)
    throw new Error(
      `config ${c.name}: past-tap weights (${pastBytes} bytes) exceed this adapter's storage binding limit ` +
        `(${maxBinding})`,
    );
}

/** The one-workgroup-per-voice kernel keeps activations in workgroup memory: widths up to 256. */
export function voiceLoopFits(c: ModelConfig): boolean {
  return c.decoder.residual <= 256 && c.decoder.skip <= 256;
}

/** Whether kernels/gen_voice_lanes.wgsl serves the config (its widths; the adapter is checked apart). */
export function voiceLanesFit(c: ModelConfig): boolean {
  const { residual: R, skip: S } = c.decoder;
  return R % 32 === 0 && S % 32 === 0 && R <= 64 && S <= 128;
}

/** Layer `layer` (1-based)'s res and skip 1x1 convs side by side: W [R][R+S], biases [R+S]. */
export function resSkipOf(w: Weights, layer: number): { W: Float32Array; B: Float32Array } {
  const { residual: R, skip: S } = w.config.decoder;
  const resW = w.get(`res_${layer}/W`).data; // [R][R]
  const skipW = w.get(`skip_${layer}/W`).data; // [R][S]
  const W = new Float32Array(R * (R + S));
  for (let r = 0; r < R; r++) {
    W.set(resW.subarray(r * R, (r + 1) * R), r * (R + S));
    W.set(skipW.subarray(r * S, (r + 1) * S), r * (R + S) + R);
  }
  const B = new Float32Array(R + S);
  B.set(w.get(`res_${layer}/biases`).data);
  B.set(w.get(`skip_${layer}/biases`).data, R);
  return { W, B };
}

/** The conditioning projections of every layer side by side: W [E, stride] and the folded biases [stride]. */
export function packConditioning(w: Weights): { W: Float32Array; B: Float32Array; stride: number } {
  const c = w.config;
  const L = decoderLayers(c);
  const E = conditioningWidth(c);
  const R2 = 2 * c.decoder.residual;
  const stride = L * R2 + c.decoder.skip;
  const W = new Float32Array(E * stride);
  const B = new Float32Array(stride);
  // Frame-constant biases: the projection's own plus the conv's it feeds (dilatedconv_i, out1).
  const place = (proj: string, fed: string, width: number, at: number) => {
    const pw = w.get(`${proj}/W`).data;
    for (let e = 0; e < E; e++) W.set(pw.subarray(e * width, (e + 1) * width), e * stride + at);
    const pb = w.get(`${proj}/biases`).data;
    const fb = w.get(`${fed}/biases`).data;
    for (let o = 0; o < width; o++) B[at + o] = pb[o] + fb[o];
  };
  for (let i = 1; i <= L; i++) place(`cond_map_${i}`, `dilatedconv_${i}`, R2, (i - 1) * R2);
  place('cond_map_out1', 'out1', c.decoder.skip, L * R2);
  return { W, B, stride };
}

/**
 * skip_start(startconv(x)) as one linear map of the three past samples: the start conv's [3][R]
 * taps (x[t-3], x[t-2], x[t-1]) and [R] biases through skip_start's [R][S] weights and [S] biases
 * give [3][S] weights and [S] biases, summed in float64. Both convs are linear with nothing between
 * them (the spec's decoder), so this is the same function; the step start evaluates it in 4 FMAs an
 * output where the unfolded sum recomputed the start conv for each of R channels (on lavapipe at
 * h512_bo16 batch 16 that tail took 1.5-4 ms of a ~52 ms step, in one dispatch's last workgroups).
 */
export function skipStartFolded(
  startW: Float32Array,
  startB: Float32Array,
  skipW: Float32Array,
  skipB: Float32Array,
  R: number,
  S: number,
): { weights: Float32Array; biases: Float32Array } {
  const foldW = new Float32Array(3 * S);
  const foldB = new Float32Array(S);
  for (let o = 0; o < S; o++) {
    const sums = [0, 0, 0];
    let bias = skipB[o];
    for (let c = 0; c < R; c++) {
      const k = skipW[c * S + o];
      for (let j = 0; j < 3; j++) sums[j] += startW[j * R + c] * k;
      bias += startB[c] * k;
    }
    for (let j = 0; j < 3; j++) foldW[j * S + o] = sums[j];
    foldB[o] = bias;
  }
  return { weights: foldW, biases: foldB };
}

export function packGenWeights(engine: Engine, w: Weights): GenWeights {
  const c = w.config;
  const L = decoderLayers(c);
  const { residual: R, skip: S } = c.decoder;
  checkGeneratable(c, engine.device.limits.maxStorageBufferBindingSize);
  const wPast = new Float32Array(L * 2 * R * 2 * R);
  const wCur = new Float32Array(L * R * 2 * R);
  const wResSkip = new Float32Array(L * R * (R + S));
  const resSkipB = new Float32Array(L * (R + S));
  for (let i = 0; i < L; i++) {
    const W = w.get(`dilatedconv_${i + 1}/W`).data; // [1,3,R,2R]
    const tap = R * 2 * R;
    wPast.set(W.subarray(0, 2 * tap), i * 2 * tap); // taps 0 and 1 stacked: rows [0,R) tap 0, [R,2R) tap 1
    wCur.set(W.subarray(2 * tap, 3 * tap), i * tap);
    const rs = resSkipOf(w, i + 1);
    wResSkip.set(rs.W, i * R * (R + S));
    resSkipB.set(rs.B, i * (R + S));
  }
  const fold = skipStartFolded(
    w.get('startconv/W').data,
    w.get('startconv/biases').data,
    w.get('skip_start/W').data,
    w.get('skip_start/biases').data,
    R,
    S,
  );
  const parts: [keyof SmallWeightOffsets, Float32Array][] = [
    ['startW', w.get('startconv/W').data],
    ['startB', w.get('startconv/biases').data],
    ['skipStartW', w.get('skip_start/W').data],
    ['skipStartB', w.get('skip_start/biases').data],
    ['resSkipB', resSkipB],
    ['out1W', w.get('out1/W').data],
    ['logitsW', w.get('logits/W').data],
    ['logitsB', w.get('logits/biases').data],
    // last, outside the voice loops' copy below (they keep the unfolded sum, and their f16 copy
    // needs every value exact in f16, which a folded product is not)
    ['skipFoldW', fold.weights],
    ['skipFoldB', fold.biases],
  ];
  const total = parts.reduce((n, [, a]) => n + a.length, 0);
  const small = new Float32Array(total);
  const smallOffsets = {} as SmallWeightOffsets;
  let at = 0;
  for (const [k, a] of parts) {
    smallOffsets[k] = at;
    small.set(a, at);
    at += a.length;
  }
  const allOffsets = {
    wPast: 0,
    wCur: wPast.length,
    wResSkip: wPast.length + wCur.length,
    small: wPast.length + wCur.length + wResSkip.length,
  };
  let all: Tensor | null = null;
  let allF16: Tensor | null = null;
  // (every config the voice-lanes path serves fits the voice loop too)
  if (voiceLoopFits(c)) {
    const smallUnfolded = small.subarray(0, smallOffsets.skipFoldW);
    const packed = new Float32Array(allOffsets.small + smallUnfolded.length);
    packed.set(wPast, allOffsets.wPast);
    packed.set(wCur, allOffsets.wCur);
    packed.set(wResSkip, allOffsets.wResSkip);
    packed.set(smallUnfolded, allOffsets.small);
    all = engine.upload(packed, [packed.length], 'gen/all');
    const pairs = voiceLanesFit(c) ? exactHalfPairs(packed) : null;
    if (pairs) allF16 = engine.upload(pairs, [pairs.length], 'gen/all_f16');
  }
  const cond = packConditioning(w);
  const t = {
    wPast: engine.upload(wPast, [L, 2 * R, 2 * R], 'gen/w_past'),
    wCur: engine.upload(wCur, [L, R, 2 * R], 'gen/w_cur'),
    wResSkip: engine.upload(wResSkip, [L, R, R + S], 'gen/w_res_skip'),
    small: engine.upload(small, [total], 'gen/small'),
    condW: engine.upload(cond.W, [1, 1, conditioningWidth(c), cond.stride], 'gen/cond_w'),
    condB: engine.upload(cond.B, [cond.stride], 'gen/cond_b'),
  };
  // The fused sets built, by storage and layout, each kept until these weights are released: a
  // run uses one, but the tuner on a GPU times up to four (two storages, two layouts) and the batch
  // buckets of one generator may settle on different ones, so replacing a set on each switch would
  // rebuild it again and again, and release a set that another stream is still using.
  const fusedSets = new Map<string, Promise<FusedWeights>>();
  const fusedOf = (storage: WeightStorage, rows = false): Promise<FusedWeights> => {
    const key = `${storage}|${rows ? 'rows' : 'columns'}`;
    const have = fusedSets.get(key);
    if (have) return have;
    const resSkip = () => hostMatrix('resSkip');
    const built = buildFusedWeights(engine, w, cond.B, storage, half, rows ? { resSkip } : null);
    fusedSets.set(key, built);
    built.catch(() => fusedSets.delete(key)); // a failed build (out of memory) may be asked for again
    return built;
  };
  // wPast, wCur or wResSkip again from the host copy of the weights, when a variant needs it (the
  // f32 arrays above are not kept: h512's are 200 MB)
  const hostMatrix = (m: HalfMatrix): Float32Array => {
    const rows = m === 'past' ? 2 * R : R;
    const cols = m === 'resSkip' ? R + S : 2 * R;
    const x = new Float32Array(L * rows * cols);
    for (let i = 0; i < L; i++) {
      const taps = w.get(`dilatedconv_${i + 1}/W`).data; // [1,3,R,2R]: taps t-2d and t-d, then t
      const layer =
        m === 'past'
          ? taps.subarray(0, 2 * R * 2 * R)
          : m === 'cur'
            ? taps.subarray(2 * R * 2 * R, 3 * R * 2 * R)
            : resSkipOf(w, i + 1).W;
      x.set(layer, i * rows * cols);
    }
    return x;
  };
  // f16 pairs of those
  const halves = new Map<HalfMatrix, Tensor>();
  const half = (m: HalfMatrix): Tensor => {
    const have = halves.get(m);
    if (have) return have;
    const x = hostMatrix(m);
    const t16 = engine.upload(halfPairs(x), [x.length / 2], `gen/${m}_f16`);
    halves.set(m, t16);
    return t16;
  };
  return {
    ...t,
    smallOffsets,
    all,
    allF16,
    allOffsets,
    fused: fusedOf,
    half,
    release: () => {
      for (const x of [...Object.values(t), ...(all ? [all] : []), ...(allF16 ? [allF16] : [])]) x.release();
      for (const x of halves.values()) x.release();
      halves.clear();
      for (const f of fusedSets.values())
        void f.then(
          (x) => x.release(),
          () => undefined,
        );
      fusedSets.clear();
    },
  };
}
