// A generation instance: the state buffers and the prepared per-step dispatches of a slice of the
// voices, on the layered path (2L + 2 dispatches per step), the fused path (L + 2) or a voice-loop path.
import type { Engine } from '../gpu/engine.js';
import { type Dispatch, encodeDispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { conditioningWidth, decoderLayers, dilation, type ModelConfig } from '../model/config.js';
import { conv1d } from '../ops/conv1d.js';
import {
  type GenStepBuffers,
  type GenStepParams,
  genGate,
  genHeadSample,
  genResSkip,
  genStepStart,
  genVoiceLoop,
  VOICE_LOOP_STEPS,
  genVoiceLanes,
  type FusedShape,
  genLayerFused,
  genHeadFused,
} from '../ops/gen-step.js';
import { voiceKey } from '../ops/sample-categorical.js';
import type { WeightStorage } from './fused-weights.js';
import type { GenWeights } from './gen-weights.js';
import type { GenerateOptions, GeneratorInternals, ResolvedPath } from './types.js';

export interface Instance {
  B: number;
  classes: Tensor;
  stepLogits: Tensor | null;
  /** Every dispatch the instance prepared (freed with it). */
  dispatches: Dispatch[];
  /** Records `n` steps of every voice into a compute pass. */
  encodeSteps(pass: GPUComputePassEncoder, n: number): void;
  dispatchesPerStep: number;
  /** Zeroes the step state and writes every voice's RNG key: before `setup` and the first step. */
  reset(): void;
  /** Run once before the first step: the conditioning of every frame. */
  setup: Dispatch;
}

function ringRows(c: ModelConfig): number {
  let rows = 0;
  for (let i = 1; i <= decoderLayers(c); i++) rows += 2 * dilation(i, c.decoder.layersPerStage);
  return rows;
}

/** Most voices one instance can hold within the adapter's storage-binding limit. */
export function maxVoicesPerInstance(c: ModelConfig, frames: number, limitBytes: number, recordLogits = false): number {
  const { residual: R, skip: S } = c.decoder;
  const perVoice = Math.max(
    ringRows(c) * R * 4,
    frames * (decoderLayers(c) * 2 * R + S) * 4,
    recordLogits ? frames * c.hop * 256 * 4 : 0,
  );
  const n = Math.floor(limitBytes / perVoice);
  if (n < 1)
    throw new Error(
      `one voice of ${frames} frames needs ${perVoice} bytes in one binding, over this adapter's limit of ` +
        `${limitBytes}`,
    );
  return n;
}

/**
 * GPU memory one voice of `frames` frames takes in an instance (the buffers buildInstance
 * allocates, per voice): checked against the engine's budget before anything is allocated.
 */
export function voiceBytes(
  c: ModelConfig,
  frames: number,
  o: { teacher?: boolean; recordLogits?: boolean } = {},
): number {
  const L = decoderLayers(c);
  const { residual: R, skip: S } = c.decoder;
  const T = frames * c.hop;
  const floats =
    frames * (conditioningWidth(c) + L * 2 * R + S) + // conditioning input and its per-layer projections
    6 + // step state
    ringRows(c) * R + // dilation queues
    L * 2 * R + // the two past taps of every layer
    2 * R +
    S + // residual, skip and gate scratch
    2 * (2 * R + S) + // the fused path's two activation buffers
    T * (o.teacher ? 2 : 1) + // classes (and teacher-forced ones)
    (o.recordLogits ? T * 256 : 0);
  return floats * 4;
}

/** What one instance serves: its voices [voiceBase, voiceBase + B) and their conditioning input [B, frames, E]. */
export interface InstanceSpec {
  voiceBase: number;
  B: number;
  frames: number;
  condInput: Float32Array;
  path: ResolvedPath;
  /** The fused path's workgroup shape and weight storage (tuning.ts chooses them). */
  fused?: { shape: FusedShape; storage: WeightStorage };
}

/**
 * The RNG key of voices [first, first + B): voice v draws from (seed, v), or with a seed per voice
 * from (seeds[v], 0), the stream a lone voice with that seed draws, whatever batch it runs in.
 */
export function rngKeys(o: GenerateOptions & GeneratorInternals, first: number, B: number): Uint32Array {
  const { seed } = o;
  return Uint32Array.from({ length: B }, (_, b) =>
    Array.isArray(seed) ? voiceKey(seed[first + b], 0) : voiceKey(seed ?? 0, first + b),
  );
}

export async function buildInstance(
  engine: Engine,
  c: ModelConfig,
  gen: GenWeights,
  spec: InstanceSpec,
  o: GenerateOptions & GeneratorInternals,
  alloc: (shape: number[], dtype?: 'f32' | 'u32') => Tensor,
): Promise<Instance> {
  const { B, frames, voiceBase } = spec;
  const L = decoderLayers(c);
  const { residual: R, skip: S } = c.decoder;
  const T = frames * c.hop;
  const condStride = L * 2 * R + S;
  const condIn = alloc([B, frames, spec.condInput.length / (B * frames)]);
  engine.write(condIn, spec.condInput);
  const cond = alloc([B, frames, condStride]);
  const state = alloc([B * 6], 'u32'); // kernels/lib_generation.wgsl: counters, history, RNG keys
  const hist = alloc([ringRows(c) * B * R]);
  const past = alloc([L * B * 2 * R]);
  const lAndS = alloc([B * (R + S)]);
  const gated = alloc([B * R]);
  const classes = alloc([B * T], 'u32');
  let teacher: Tensor | null = null;
  if (o.teacher) {
    teacher = alloc([B * T], 'u32');
    for (let b = 0; b < B; b++) engine.write(teacher, o.teacher[voiceBase + b].subarray(0, T), b * T * 4);
  }
  const stepLogits = o.recordLogits ? alloc([B * T * 256]) : null;
  const p: GenStepParams = {
    B,
    R,
    S,
    L,
    layersPerStage: c.decoder.layersPerStage,
    frames,
    hop: c.hop,
    condStride,
    temperature: o.temperature ?? 1,
    teacher: !!teacher,
    recordLogits: !!stepLogits,
    at: gen.smallOffsets,
  };
  const buffers: GenStepBuffers = {
    state: state.buffer,
    hist: hist.buffer,
    past: past.buffer,
    lAndS: lAndS.buffer,
    gated: gated.buffer,
    cond: cond.buffer,
    classes: classes.buffer,
    teacher: teacher?.buffer ?? engine.dummy,
    // A placeholder of its own: one buffer may not be bound both read-only and writable.
    stepLogits: stepLogits?.buffer ?? alloc([1]).buffer,
  };
  const fw = spec.path === 'fused' ? await gen.fused(spec.fused?.storage ?? 'f32') : null;
  // Once per note: the conditioning of every layer and of the head, for every frame and voice (on
  // the fused path with the residual biases' fold added).
  const setup = await conv1d(engine, condIn, gen.condW, fw ? fw.condB : gen.condB, cond, { taps: 1 });
  const keys = rngKeys(o, (o.voiceOffset ?? 0) + voiceBase, B);
  const reset = () => {
    engine.clear(state, hist, past, lAndS, gated); // pooled buffers may hold an earlier run's values
    engine.write(state, keys, 5 * B * 4);
  };
  const common = { B, classes, stepLogits, setup, reset };
  if (spec.path === 'voice-loop' || spec.path === 'voice-lanes') {
    if (!gen.all) throw new Error(`config ${c.name}: no packed weights for the ${spec.path} path`);
    // voice-lanes reads f16 pairs where every weight is exactly an f16 (same values, half the bytes)
    const make = (steps: number) =>
      spec.path === 'voice-lanes'
        ? gen.allF16
          ? genVoiceLanes(engine, p, steps, gen.allF16.buffer, gen.allOffsets, buffers, 'f16')
          : genVoiceLanes(engine, p, steps, gen.all!.buffer, gen.allOffsets, buffers)
        : genVoiceLoop(engine, p, steps, gen.all!.buffer, gen.allOffsets, buffers);
    const many = await make(VOICE_LOOP_STEPS);
    const one = await make(1);
    return {
      ...common,
      dispatches: [setup, many, one],
      dispatchesPerStep: 1 / VOICE_LOOP_STEPS,
      encodeSteps(pass, n) {
        for (let j = 0; j < Math.floor(n / VOICE_LOOP_STEPS); j++) encodeDispatch(pass, many);
        for (let j = 0; j < n % VOICE_LOOP_STEPS; j++) encodeDispatch(pass, one);
      },
    };
  }
  if (fw) {
    const shape = spec.fused?.shape ?? { C4: 4, KS: 16, VT: 1 };
    const acts: [GPUBuffer, GPUBuffer] = [alloc([B * (2 * R + S)]).buffer, alloc([B * (2 * R + S)]).buffer];
    const small = gen.small.buffer;
    const lw = {
      gate: fw.gate.buffer,
      resSkip: (fw.resSkipF16 ?? gen.wResSkip).buffer,
      small,
      storage: fw.storage,
    };
    const w = { wPast: (fw.pastF16 ?? gen.wPast).buffer, wCur: gen.wCur.buffer, wResSkip: gen.wResSkip.buffer, small };
    const step: Dispatch[] = [await genStepStart(engine, p, w, buffers, fw.storage)];
    for (let i = 0; i < L; i++) step.push(await genLayerFused(engine, p, i, shape, lw, buffers, { acts }));
    step.push(await genHeadFused(engine, p, gen.wResSkip.buffer, small, buffers, { acts }));
    return { ...common, ...everyStep(setup, step) };
  }
  const w = { wPast: gen.wPast.buffer, wCur: gen.wCur.buffer, wResSkip: gen.wResSkip.buffer, small: gen.small.buffer };
  const step: Dispatch[] = [await genStepStart(engine, p, w, buffers)];
  for (let i = 0; i < L; i++)
    step.push(await genGate(engine, p, i, w, buffers), await genResSkip(engine, p, i, w, buffers));
  step.push(await genHeadSample(engine, p, w, buffers));
  return { ...common, ...everyStep(setup, step) };
}

/** An instance whose step is the dispatches `step`, encoded in order once per step (layered, fused). */
function everyStep(
  setup: Dispatch,
  step: Dispatch[],
): Pick<Instance, 'dispatches' | 'dispatchesPerStep' | 'encodeSteps'> {
  return {
    dispatches: [setup, ...step],
    dispatchesPerStep: step.length,
    encodeSteps(pass, n) {
      for (let j = 0; j < n; j++) for (const d of step) encodeDispatch(pass, d);
    },
  };
}
