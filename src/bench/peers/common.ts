// What every peer of the fast-generation benchmark shares: the run contract, the model's weights
// in the layouts a peer multiplies by (taken from Magenta's tensors as they are, no re-training,
// no re-initialisation), and the sampling rule. A peer runs the same Fast WaveNet step as ours:
// per-layer queues of past layer inputs, taps t-2d, t-d, t in one [3R, 2R] product, the
// conditioning of every layer computed once per note and frame, sigmoid*tanh gate, residual|skip
// in one [R, R+S] product, head relu -> out1 (+cond) -> relu -> logits, inverse-CDF sampling.
import { conditioningWidth, decoderLayers, dilation, type ModelConfig } from '../../model/config.js';
import type { Weights } from '../../model/weights.js';
import { uniform01 } from '../../ops/sample-categorical.js';
import { packConditioning, resSkipOf } from '../../generate/gen-weights.js';

export interface PeerRunOptions {
  /** Voices, advancing in lock-step. */
  B: number;
  frames: number;
  /** [B, frames, E]: the embedding with the one-hot pitch where configured, as `conditioningInput` builds it. */
  condInput: Float32Array;
  /** Steps to run (at most frames * hop). */
  steps: number;
  /** Seed of the uniforms of the inverse-CDF draws: `uniform01(seed, voice, step)`, ours too. */
  seed?: number;
  /** Teacher forcing: feed these classes instead of the sampled ones (one array of >= steps per voice). */
  teacher?: Uint32Array[];
  /** Keep every step's logits ([steps, 256] per voice); for tests, small runs. */
  recordLogits?: boolean;
}

export interface PeerRunResult {
  /** Sampled (or, teacher-forced, still sampled from the logits) classes per voice. */
  classes: Uint32Array[];
  logits?: Float32Array[];
  /** What the run chose that matters for speed (a program variant), for the row's detail. */
  note?: string;
  /** Wall time of the run: conditioning, state set-up, every step and the class read-back. */
  seconds: number;
}

export interface Peer {
  readonly name: string;
  /** One line: framework, backend, device and the choices that matter for speed. */
  readonly detail: string;
  run(o: PeerRunOptions): Promise<PeerRunResult>;
  dispose(): void;
}

/** A peer's optional package is missing: one line saying which and how to install it. */
export function missingPackage(peer: string, pkg: string, e: unknown): Error {
  const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new Error(
    `peer ${peer} needs the optional package ${pkg} 4.22.0 (npm install --save-optional ${pkg}@4.22.0): ${why}`,
  );
}

/** The model's weights arranged for one-sample steps, on the host. */
export interface StepWeights {
  config: ModelConfig;
  L: number;
  R: number;
  S: number;
  E: number;
  dilations: number[];
  /** Per layer [3R, 2R]: dilatedconv_i/W as stored ([1,3,R,2R] is the taps stacked t-2d, t-d, t). */
  dil: Float32Array[];
  /** Per layer [R, R+S]: res_i/W and skip_i/W side by side; biases [R+S]. */
  resSkip: Float32Array[];
  resSkipB: Float32Array[];
  /** [E, stride] and [stride], stride = L*2R + S: every conditioning projection side by side, the
   * dilated convs' and out1's biases folded in (they are constant over a frame too). */
  condW: Float32Array;
  condB: Float32Array;
  stride: number;
  /** [3, R] start conv on the scalar input (taps t-2, t-1, t), [R]. */
  startW: Float32Array;
  startB: Float32Array;
  skipStartW: Float32Array;
  skipStartB: Float32Array;
  out1W: Float32Array;
  logitsW: Float32Array;
  logitsB: Float32Array;
}

export function stepWeights(w: Weights): StepWeights {
  const c = w.config;
  const L = decoderLayers(c);
  const { residual: R, skip: S } = c.decoder;
  const E = conditioningWidth(c);
  if (c.filterLength !== 3 || c.numClasses !== 256) throw new Error(`config ${c.name}: peers run 3 taps, 256 classes`);
  // the generator's own packing of the conditioning and of [res | skip] (src/generate/gen-weights.ts)
  const { W: condW, B: condB, stride } = packConditioning(w);
  const dil: Float32Array[] = [];
  const resSkip: Float32Array[] = [];
  const resSkipB: Float32Array[] = [];
  for (let i = 1; i <= L; i++) {
    dil.push(w.get(`dilatedconv_${i}/W`).data);
    const rs = resSkipOf(w, i);
    resSkip.push(rs.W);
    resSkipB.push(rs.B);
  }
  return {
    config: c,
    L,
    R,
    S,
    E,
    dilations: Array.from({ length: L }, (_, i) => dilation(i + 1, c.decoder.layersPerStage)),
    dil,
    resSkip,
    resSkipB,
    condW,
    condB,
    stride,
    startW: w.get('startconv/W').data,
    startB: w.get('startconv/biases').data,
    skipStartW: w.get('skip_start/W').data,
    skipStartB: w.get('skip_start/biases').data,
    out1W: w.get('out1/W').data,
    logitsW: w.get('logits/W').data,
    logitsB: w.get('logits/biases').data,
  };
}

/** The decoder's input for a class: (k - 128) / 128 (mu-law decode then re-encode is the identity on k). */
export const CLASS_INPUT: Float32Array = Float32Array.from({ length: 256 }, (_, k) => (k - 128) / 128);

/** [steps, B] uniforms of steps [t0, t0 + n), the counter-based stream our generator draws from. */
export function uniformsBlock(seed: number, B: number, t0: number, n: number): Float32Array {
  const u = new Float32Array(n * B);
  for (let s = 0; s < n; s++) for (let b = 0; b < B; b++) u[s * B + b] = uniform01(seed, b, t0 + s);
  return u;
}

export function checkRun(c: ModelConfig, o: PeerRunOptions): number {
  const E = conditioningWidth(c);
  if (o.condInput.length !== o.B * o.frames * E)
    throw new Error(`conditioning input holds ${o.condInput.length} values, need ${o.B}x${o.frames}x${E}`);
  if (!Number.isInteger(o.steps) || o.steps < 1 || o.steps > o.frames * c.hop)
    throw new Error(`steps ${o.steps} outside 1..${o.frames * c.hop}`);
  if (o.teacher && (o.teacher.length !== o.B || o.teacher.some((a) => a.length < o.steps)))
    throw new Error(`teacher classes: need ${o.B} arrays of ${o.steps}`);
  return E;
}
