// A generation instance: the state buffers and the prepared per-step dispatches of a slice of the
// voices, on the layered path (2L + 2 dispatches per step), the fused path (L + 2) or a voice-loop path.
import type { Engine } from '../gpu/engine.js';
import { type Dispatch, encodeDispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { conditioningWidth, decoderLayers, dilation, type ModelConfig } from '../model/config.js';
import { conv1d } from '../ops/conv1d.js';
import {
  condStrideOf,
  type GenStepBuffers,
  type LayerGroup,
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
import type { GenWeights, HalfMatrix } from './gen-weights.js';
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
  /** The dispatches of one step, in order (the voice loops: the one-step dispatch), for a profile. */
  stepDispatches: Dispatch[];
  /** Zeroes the step state and writes every voice's RNG key: before `setup` and the first step. */
  reset(): void;
  /** Run once before the first step: the conditioning of every frame (a dispatch per layer group). */
  setup: Dispatch[];
}

/** Rows of the history rings of decoder layers [first, first + count) (0-based; layer i has 2 d_i rows). */
function ringRows(c: ModelConfig, first = 0, count = decoderLayers(c)): number {
  let rows = 0;
  for (let i = first + 1; i <= first + count; i++) rows += 2 * dilation(i, c.decoder.layersPerStage);
  return rows;
}

/**
 * Bytes one voice of `frames` frames takes in a layer group's two buffers: its layers' rings, and
 * its conditioning (the last group's with the head's columns).
 */
function groupVoiceBytes(c: ModelConfig, frames: number, first: number, count: number): { ring: number; cond: number } {
  const { residual: R, skip: S } = c.decoder;
  const last = first + count === decoderLayers(c);
  return { ring: ringRows(c, first, count) * R * 4, cond: frames * (count * 2 * R + (last ? S : 0)) * 4 };
}

/**
 * The instance's layer groups (kernels/lib_generation.wgsl): consecutive layers, each group as
 * large as the binding limit allows for B voices, so one group wherever everything fits. With
 * `single` (the voice loops, which read every layer in one dispatch) always one group.
 */
export function layerGroups(
  c: ModelConfig,
  B: number,
  frames: number,
  limitBytes: number,
  single = false,
): LayerGroup[] {
  const L = decoderLayers(c);
  if (single) return [{ first: 0, count: L }];
  const fits = (first: number, count: number) => {
    const v = groupVoiceBytes(c, frames, first, count);
    return B * v.ring <= limitBytes && B * v.cond <= limitBytes;
  };
  const groups: LayerGroup[] = [];
  let first = 0;
  while (first < L) {
    let count = 1;
    // (a single layer always fits: maxVoicesPerInstance counted each one, the last with the head's columns)
    while (first + count < L && fits(first, count + 1)) count++;
    groups.push({ first, count });
    first += count;
  }
  return groups;
}

/**
 * Most voices one instance can hold within the adapter's storage-binding limit: where the layers may
 * be split into groups (the layered and fused paths), as many as the largest single layer's ring and
 * conditioning allow; with `single` (the voice loops), as many as all of them in one binding allow.
 */
export function maxVoicesPerInstance(
  c: ModelConfig,
  frames: number,
  limitBytes: number,
  recordLogits = false,
  single = false,
): number {
  const L = decoderLayers(c);
  // buffers bound whole whatever the groups: classes (and teacher classes), the past taps, logits
  let perVoice = Math.max(
    frames * c.hop * 4,
    L * 2 * c.decoder.residual * 4,
    recordLogits ? frames * c.hop * 256 * 4 : 0,
  );
  const parts = single ? [[0, L]] : Array.from({ length: L }, (_, i) => [i, 1]);
  for (const [first, count] of parts) {
    const v = groupVoiceBytes(c, frames, first, count);
    perVoice = Math.max(perVoice, v.ring, v.cond);
  }
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

/** Whether a path reads every layer in one dispatch (the voice loops): its instances keep one layer group. */
export function oneLayerGroup(path: ResolvedPath): boolean {
  return path === 'voice-loop' || path === 'voice-lanes';
}

/**
 * How a run of B voices of `frames` frames on `path` is laid out (generateChunks): the binding
 * limit its buffers keep within, the voices an instance holds, and the first instance's layer groups.
 */
export function instanceLayout(
  engine: Engine,
  c: ModelConfig,
  B: number,
  frames: number,
  path: ResolvedPath,
  // Spelled out rather than picked from GeneratorInternals, whose members the published declarations leave out.
  o: { maxBindingBytes?: number; maxVoicesPerInstance?: number; recordLogits?: boolean } = {},
): { bindingLimit: number; perInstance: number; groups: LayerGroup[] } {
  const { limits } = engine.device;
  const bindingLimit = Math.min(
    o.maxBindingBytes ?? Infinity,
    limits.maxStorageBufferBindingSize,
    limits.maxBufferSize,
  );
  const single = oneLayerGroup(path);
  const perInstance = Math.min(
    B,
    o.maxVoicesPerInstance ?? Infinity,
    maxVoicesPerInstance(c, frames, bindingLimit, !!o.recordLogits, single),
  );
  return { bindingLimit, perInstance, groups: layerGroups(c, perInstance, frames, bindingLimit, single) };
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
  /** The layered path's matrix storage (f32 where absent; f16: GenWeights.half's pairs). */
  layered?: { storage: WeightStorage };
  /** The storage-binding limit the instance's buffers must keep within (bytes). */
  bindingLimit: number;
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
  const groups = layerGroups(c, B, frames, spec.bindingLimit, oneLayerGroup(spec.path));
  const condIn = alloc([B, frames, spec.condInput.length / (B * frames)]);
  engine.write(condIn, spec.condInput);
  const p: GenStepParams = {
    B,
    R,
    S,
    L,
    layersPerStage: c.decoder.layersPerStage,
    frames,
    hop: c.hop,
    groups,
    temperature: o.temperature ?? 1,
    teacher: !!o.teacher,
    recordLogits: !!o.recordLogits,
    at: gen.smallOffsets,
  };
  const cond = groups.map((_, g) => alloc([B, frames, condStrideOf(p, g)]));
  const hist = groups.map((x) => alloc([ringRows(c, x.first, x.count) * B * R]));
  const state = alloc([B * 6], 'u32'); // kernels/lib_generation.wgsl: counters, history, RNG keys
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
  const buffers: GenStepBuffers = {
    state: state.buffer,
    hist: hist.map((h) => h.buffer),
    past: past.buffer,
    lAndS: lAndS.buffer,
    gated: gated.buffer,
    cond: cond.map((x) => x.buffer),
    classes: classes.buffer,
    teacher: teacher?.buffer ?? engine.dummy,
    // A placeholder of its own: one buffer may not be bound both read-only and writable.
    stepLogits: stepLogits?.buffer ?? alloc([1]).buffer,
  };
  const fw =
    spec.path === 'fused' ? await gen.fused(spec.fused?.storage ?? 'f32', spec.fused?.shape.layout === 'rows') : null;
  // Once per note: the conditioning of every layer and of the head, for every frame and voice (on
  // the fused path with the residual biases' fold added), a matmul per layer group.
  const condB = fw ? fw.condB : gen.condB;
  const setup: Dispatch[] = [];
  for (let g = 0; g < groups.length; g++) {
    const [w, b] =
      groups.length === 1 ? [gen.condW, condB] : conditioningColumns(engine, gen.condW, condB, p, g, alloc);
    setup.push(await conv1d(engine, condIn, w, b, cond[g], { taps: 1 }));
  }
  const keys = rngKeys(o, (o.voiceOffset ?? 0) + voiceBase, B);
  const reset = () => {
    engine.clear(state, ...hist, past, lAndS, gated); // pooled buffers may hold an earlier run's values
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
      dispatches: [...setup, many, one],
      dispatchesPerStep: 1 / VOICE_LOOP_STEPS,
      stepDispatches: [one],
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
      resSkip: (fw.resSkipRows ?? fw.resSkipF16 ?? gen.wResSkip).buffer,
      small,
      storage: fw.storage,
    };
    const w = { wPast: (fw.pastF16 ?? gen.wPast).buffer, wCur: gen.wCur.buffer, wResSkip: gen.wResSkip.buffer, small };
    const step: Dispatch[] = await genStepStart(engine, p, w, buffers, fw.storage);
    for (let i = 0; i < L; i++) step.push(await genLayerFused(engine, p, i, shape, lw, buffers, { acts }));
    step.push(await genHeadFused(engine, p, gen.wResSkip.buffer, small, buffers, { acts }));
    return { ...common, ...everyStep(setup, step) };
  }
  const w = { wPast: gen.wPast.buffer, wCur: gen.wCur.buffer, wResSkip: gen.wResSkip.buffer, small: gen.small.buffer };
  // the matrices as f16 pairs where the plan says so (every kernel set has its f16 variants, so a
  // voice's audio does not depend on which set its instance's size picks)
  const f16 = spec.layered?.storage === 'f16';
  const half = (m: HalfMatrix) => (f16 ? gen.half(m).buffer : undefined);
  const pastF16 = half('past');
  const wStart = pastF16 ? { ...w, wPast: pastF16 } : w;
  const step: Dispatch[] = await genStepStart(engine, p, wStart, buffers, f16 ? 'f16' : 'f32');
  for (let i = 0; i < L; i++)
    step.push(
      await genGate(engine, p, i, w, buffers, half('cur')),
      await genResSkip(engine, p, i, w, buffers, half('resSkip')),
    );
  step.push(await genHeadSample(engine, p, w, buffers));
  return { ...common, ...everyStep(setup, step) };
}

/**
 * Group g's columns of the conditioning weights [1, 1, E, L*2R + S] and biases: its layers' 2R
 * each, and in the last group the head's S, copied on the GPU into the instance's own tensors.
 */
function conditioningColumns(
  engine: Engine,
  W: Tensor,
  bias: Tensor,
  p: GenStepParams,
  g: number,
  alloc: (shape: number[]) => Tensor,
): [Tensor, Tensor] {
  const E = W.shape[2];
  const stride = W.shape[3];
  const cols = condStrideOf(p, g);
  const at = p.groups[g].first * 2 * p.R; // the last group's head columns follow its layers' at the end of a row
  const w = alloc([1, 1, E, cols]);
  const b = alloc([cols]);
  const enc = engine.device.createCommandEncoder({ label: 'conditioning columns' });
  for (let e = 0; e < E; e++) enc.copyBufferToBuffer(W.buffer, (e * stride + at) * 4, w.buffer, e * cols * 4, cols * 4);
  enc.copyBufferToBuffer(bias.buffer, at * 4, b.buffer, 0, cols * 4);
  engine.device.queue.submit([enc.finish()]);
  return [w, b];
}

/** An instance whose step is the dispatches `step`, encoded in order once per step (layered, fused). */
function everyStep(
  setup: Dispatch[],
  step: Dispatch[],
): Pick<Instance, 'dispatches' | 'dispatchesPerStep' | 'stepDispatches' | 'encodeSteps'> {
  return {
    dispatches: [...setup, ...step],
    dispatchesPerStep: step.length,
    stepDispatches: step,
    encodeSteps(pass, n) {
      for (let j = 0; j < n; j++) for (const d of step) encodeDispatch(pass, d);
    },
  };
}
