// The fast generator (Fast WaveNet on the GPU): per-layer rings of past layer inputs, the
// conditioning of every layer computed once per frame for all voices, past taps of all layers in
// one dispatch, then per layer the current tap + gate and the residual/skip matvec, and the head
// with softmax sampling. 2L + 2 dispatches per step, many steps per submit, no readback per step:
// the sampled class feeds the next step on the GPU and audio comes back in chunks.
import type { Engine } from '../gpu/engine.js';
import { destroyDispatches, type Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { conv1d } from '../ops/conv1d.js';
import { MU_LAW_DECODE_TABLE } from '../ops/mulaw.js';
import { decoderLayers, dilation, type ModelConfig } from '../model/config.js';
import { voiceLoopFits, type GenWeights } from './gen-weights.js';

export interface GenerateOptions {
  /** Seed of the counter-based RNG (default 0). Same seed, same audio. */
  seed?: number;
  /** Softmax temperature: 1 is Magenta's plain sampling (default), 0 is argmax. */
  temperature?: number;
  /** MIDI pitch per voice, for pitch-conditioned configs. */
  pitch?: number | number[];
  /** Called after every chunk. */
  onProgress?: (p: GenerateProgress) => void;
  /** Cancels generation; buffers are freed and the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** Samples per chunk read back (default 4096); the first chunk is shorter (default 512) for low latency. */
  chunkSize?: number;
  firstChunkSize?: number;
  /** `generate` only: most voices run together; more embeddings are generated batch after batch. */
  batch?: number;
  /** Steps encoded per queue submit (default: about 4096 dispatches' worth). */
  stepsPerSubmit?: number;
  /**
   * `layered`: 2L + 2 dispatches per step, every voice group spread over the GPU (large configs).
   * `voice-loop`: one workgroup per voice runs many steps per dispatch (small configs, widths
   * up to 256). `auto` (default) picks by config, as measured in bench/generate.
   */
  path?: GenerationPath;
}

export type GenerationPath = 'auto' | 'layered' | 'voice-loop';

/** Voices per voice group in the layered kernels (their `const VB`): one weight read serves them all. */
export const VOICE_TILE = 16;

/** Steps one voice-loop dispatch runs. */
export const VOICE_LOOP_STEPS = 64;

/**
 * The measured choice (README, "Fast generation"; lavapipe): one workgroup per voice is 2.2x
 * faster than the layered path for `tiny` (0.6 MB of step weights) at batch 1, but slower at
 * batch 4, and slower for `h128_bo16` (15 MB) even at batch 1 (91 vs 123 samples/s): it pays off
 * only while the step's weights stay close to one core or compute unit.
 */
export function choosePath(c: ModelConfig, requested: GenerationPath = 'auto', batch = 1): 'layered' | 'voice-loop' {
  if (requested === 'voice-loop' && !voiceLoopFits(c)) throw new Error(`config ${c.name}: the voice-loop path supports residual and skip widths up to 256`);
  if (requested !== 'auto') return requested;
  return voiceLoopFits(c) && stepWeightBytes(c) <= 2 * 1024 * 1024 && batch <= 2 ? 'voice-loop' : 'layered';
}

/** Bytes of weights one generation step reads (f32). */
export function stepWeightBytes(c: ModelConfig): number {
  const { residual: R, skip: S } = c.decoder;
  const L = decoderLayers(c);
  return 4 * (L * (3 * R * 2 * R + R * (R + S)) + 4 * R + R * S + S * S + S * 257);
}

export interface GenerateProgress {
  done: number;
  total: number;
  /** Samples per second per voice so far. */
  samplesPerSecond: number;
  elapsedSeconds: number;
}

/** Testing hooks: feed given classes instead of the sampled ones, and keep every step's logits. */
export interface GeneratorInternals {
  teacher?: Uint32Array[];
  recordLogits?: boolean;
  /** RNG voice index of voice 0 (generate's successive batches keep every voice's own stream). */
  voiceOffset?: number;
  /** Cap on voices per instance (normally set by the adapter's binding limit). */
  maxVoicesPerInstance?: number;
}

export interface AudioChunk {
  /** Sample range [start, end) of this chunk. */
  start: number;
  end: number;
  /** One Float32Array per voice. */
  audio: Float32Array[];
  /** Sampled mu-law classes per voice. */
  classes: Uint32Array[];
  /** Per voice, the logits [end - start, 256] of every step (only with `recordLogits`). */
  logits?: Float32Array[];
}

export interface GeneratorResources {
  engine: Engine;
  config: ModelConfig;
  gen: GenWeights;
  condW: Tensor;
}

export function dispatchesPerStep(c: ModelConfig, path: GenerationPath = 'auto', batch = 1): number {
  return choosePath(c, path, batch) === 'voice-loop' ? 1 / VOICE_LOOP_STEPS : 2 * decoderLayers(c) + 2;
}

function abortError(): Error {
  const e = new Error('generation was cancelled');
  e.name = 'AbortError';
  return e;
}

/** A slice of the voices with its own state buffers and dispatches; slices advance in lock-step. */
interface Instance {
  B: number;
  classes: Tensor;
  stepLogits: Tensor | null;
  dispatches: Dispatch[];
  encodeSteps(pass: GPUComputePassEncoder, n: number): void;
  dispatchesPerStep: number;
  /** Buffers that must start zeroed. */
  stateBuffers: Tensor[];
}

function record(pass: GPUComputePassEncoder, d: Dispatch): void {
  pass.setPipeline(d.kernel.pipeline);
  d.bindGroups.forEach((bg, i) => pass.setBindGroup(i, bg));
  pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
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
  if (n < 1) throw new Error(`one voice of ${frames} frames needs ${perVoice} bytes in one binding, over this adapter's limit of ${limitBytes}`);
  return n;
}

async function buildInstance(res: GeneratorResources, voiceBase: number, B: number, frames: number, condInput: Float32Array, o: GenerateOptions & GeneratorInternals, alloc: (shape: number[], dtype?: 'f32' | 'u32') => Tensor, oneOff: Dispatch[], path: 'layered' | 'voice-loop'): Promise<Instance> {
  const { engine, config: c, gen } = res;
  const L = decoderLayers(c);
  const { residual: R, skip: S } = c.decoder;
  const T = frames * c.hop;
  const stride = L * 2 * R + S;
  const E = condInput.length / (B * frames);
  const condIn = alloc([B, frames, E]);
  engine.write(condIn, condInput);
  const cond = alloc([B, frames, stride]);
  const state = alloc([B * 5], 'u32');
  const hist = alloc([ringRows(c) * B * R]);
  const past = alloc([L * B * 2 * R]);
  const ls = alloc([B * (R + S)]);
  const g = alloc([B * R]);
  const classes = alloc([B * T], 'u32');
  let teacher: Tensor | null = null;
  let stepLogits: Tensor | null = null;
  let flags = 0;
  if (o.teacher) {
    teacher = alloc([B * T], 'u32');
    for (let b = 0; b < B; b++) engine.write(teacher, o.teacher[voiceBase + b].subarray(0, T), b * T * 4);
    flags |= 1;
  }
  if (o.recordLogits) {
    stepLogits = alloc([B * T * 256]);
    flags |= 2;
  }
  const off = gen.offsets;
  const params = (layer: number) => ({
    B, R, S, L, lps: c.decoder.layersPerStage, frames, hop: c.hop, steps: T, cond_stride: stride, layer,
    temperature: o.temperature ?? 1, seed: (o.seed ?? 0) >>> 0, flags,
    gw_start_w: off.startW, gw_start_b: off.startB, gw_ss_w: off.ssW, gw_ss_b: off.ssB, gw_rs_b: off.rsB,
    gw_out1_w: off.out1W, gw_logits_w: off.logitsW, gw_logits_b: off.logitsB, voice_base: (o.voiceOffset ?? 0) + voiceBase,
  });
  // Once per note: the conditioning of every layer and of the head, for every frame and voice.
  oneOff.push(await conv1d(engine, condIn, res.condW, gen.condB, cond, { taps: 1 }));
  const stepLogitsBuf = stepLogits?.buffer ?? alloc([1]).buffer; // own placeholder: one buffer may not be both read and written
  const teacherBuf = teacher?.buffer ?? engine.dummy;
  const dispatches: Dispatch[] = [];
  const inst = { B, classes, stepLogits, dispatches, stateBuffers: [state, hist, past, ls, g] };
  if (path === 'voice-loop') {
    const kLoop = await engine.kernel('gen_voice_loop');
    const wo = gen.wallOffsets;
    const loop = (nsteps: number) => kLoop.prepare({
      p: params(0), q: { nsteps, w_past: wo.wPast, w_cur: wo.wCur, w_rs: wo.wRs, gw: wo.gw },
      state: state.buffer, hist: hist.buffer, wall: gen.wall!.buffer, cond: cond.buffer, classes: classes.buffer,
      teacher: teacherBuf, step_logits: stepLogitsBuf,
    }, [B]);
    const many = loop(VOICE_LOOP_STEPS);
    const one = loop(1);
    dispatches.push(many, one);
    return {
      ...inst,
      dispatchesPerStep: 1 / VOICE_LOOP_STEPS,
      encodeSteps(pass, n) {
        for (let j = 0; j < Math.floor(n / VOICE_LOOP_STEPS); j++) record(pass, many);
        for (let j = 0; j < n % VOICE_LOOP_STEPS; j++) record(pass, one);
      },
    };
  }
  const groupsY = Math.ceil(B / VOICE_TILE);
  const [kStart, kGate, kRs, kHead] = await Promise.all(['gen_step_start', 'gen_gate', 'gen_res_skip', 'gen_head_sample'].map((n) => engine.kernel(n)));
  const startThreads = (L * (2 * R)) / 4 + (R + S) / 4;
  dispatches.push(kStart.prepare({ p: params(0), state: state.buffer, hist: hist.buffer, w_past: gen.wPast.buffer, cond: cond.buffer, gw: gen.gw.buffer, past: past.buffer, ls: ls.buffer }, [Math.ceil(startThreads / 64), groupsY]));
  for (let i = 0; i < L; i++) {
    dispatches.push(kGate.prepare({ p: params(i), state: state.buffer, past: past.buffer, w_cur: gen.wCur.buffer, ls: ls.buffer, hist: hist.buffer, g: g.buffer }, [Math.ceil(R / 4 / 64), groupsY]));
    dispatches.push(kRs.prepare({ p: params(i), w_rs: gen.wRs.buffer, gw: gen.gw.buffer, g: g.buffer, ls: ls.buffer }, [Math.ceil((R + S) / 4 / 64), groupsY]));
  }
  dispatches.push(kHead.prepare({ p: params(0), state: state.buffer, ls: ls.buffer, gw: gen.gw.buffer, cond: cond.buffer, classes: classes.buffer, teacher: teacherBuf, step_logits: stepLogitsBuf }, [B]));
  return {
    ...inst,
    dispatchesPerStep: dispatches.length,
    encodeSteps(pass, n) {
      for (let j = 0; j < n; j++) for (const d of dispatches) record(pass, d);
    },
  };
}

/**
 * One generation run: B voices of `frames` frames, `condInput` [B, frames, E] (embedding and
 * pitch). Voices are split into instances that fit the adapter's binding limit and advance in
 * lock-step in the same submits. The generator owns every buffer it allocates and frees them when
 * the iterator finishes, throws or is returned early.
 */
export async function* generateChunks(res: GeneratorResources, B: number, frames: number, condInput: Float32Array, o: GenerateOptions & GeneratorInternals = {}): AsyncGenerator<AudioChunk> {
  const { engine, config: c } = res;
  const T = frames * c.hop;
  const owned: Tensor[] = [];
  const instances: Instance[] = [];
  const staging: GPUBuffer[] = [];
  const oneOff: Dispatch[] = [];
  const alloc = (shape: number[], dtype: 'f32' | 'u32' = 'f32') => {
    const t = engine.tensor(shape, dtype);
    owned.push(t);
    return t;
  };
  try {
    const temperature = o.temperature ?? 1;
    if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`temperature must be a finite number >= 0, got ${temperature}`);
    if (o.teacher && (o.teacher.length !== B || o.teacher.some((a) => a.length < T))) throw new Error(`teacher classes: need ${B} arrays of ${T}`);
    const per = Math.min(
      o.maxVoicesPerInstance ?? Infinity,
      maxVoicesPerInstance(c, frames, Math.min(engine.device.limits.maxStorageBufferBindingSize, engine.device.limits.maxBufferSize), !!o.recordLogits),
    );
    const E = condInput.length / (B * frames);
    for (let v0 = 0; v0 < B; v0 += per) {
      const n = Math.min(per, B - v0);
      instances.push(await buildInstance(res, v0, n, frames, condInput.subarray(v0 * frames * E, (v0 + n) * frames * E), o, alloc, oneOff, choosePath(c, o.path, B)));
    }
    // Fresh state (pooled buffers may hold an earlier run's values), then the conditioning.
    {
      const enc = engine.device.createCommandEncoder();
      for (const inst of instances) for (const t of inst.stateBuffers) enc.clearBuffer(t.buffer);
      const pass = enc.beginComputePass();
      for (const d of oneOff) record(pass, d);
      pass.end();
      engine.device.queue.submit([enc.finish()]);
    }
    const perStep = instances.reduce((n, i) => n + i.dispatchesPerStep, 0);
    const chunk = Math.max(1, o.chunkSize ?? 4096);
    const first = Math.max(1, Math.min(o.firstChunkSize ?? 512, chunk));
    const perSubmit = Math.max(1, o.stepsPerSubmit ?? Math.floor(4096 / perStep));
    const t0 = performance.now();
    const bounds: [number, number][] = [];
    for (let s = 0; s < T; ) {
      const e = Math.min(T, s + (s === 0 ? first : chunk));
      bounds.push([s, e]);
      s = e;
    }
    // Submits a chunk's steps and the copy of its classes to a new staging buffer.
    const submitChunk = (k: number): GPUBuffer => {
      const [s, e] = bounds[k];
      const n = e - s;
      for (let t = s; t < e; t += perSubmit) {
        engine.checkHealthy();
        const steps = Math.min(perSubmit, e - t);
        const enc = engine.device.createCommandEncoder();
        const pass = enc.beginComputePass();
        for (const inst of instances) inst.encodeSteps(pass, steps);
        pass.end();
        if (t + steps >= e) {
          const buf = engine.device.createBuffer({ size: Math.max(4, n * 4 * B), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
          staging.push(buf);
          let v = 0;
          for (const inst of instances) {
            for (let b = 0; b < inst.B; b++, v++) enc.copyBufferToBuffer(inst.classes.buffer, (b * T + s) * 4, buf, v * n * 4, n * 4);
          }
          engine.device.queue.submit([enc.finish()]);
          return buf;
        }
        engine.device.queue.submit([enc.finish()]);
      }
      throw new Error('unreachable');
    };
    // One chunk ahead: the GPU runs chunk k+1 while chunk k is read back and handed out.
    let pending = submitChunk(0);
    for (let k = 0; k < bounds.length; k++) {
      if (o.signal?.aborted) throw abortError();
      const next = k + 1 < bounds.length ? submitChunk(k + 1) : null;
      const [s, e] = bounds[k];
      await pending.mapAsync(GPUMapMode.READ);
      engine.checkHealthy();
      const all = new Uint32Array(pending.getMappedRange().slice(0));
      pending.unmap();
      pending.destroy();
      staging.splice(staging.indexOf(pending), 1);
      const n = e - s;
      const cls = Array.from({ length: B }, (_, b) => all.slice(b * n, (b + 1) * n));
      const audio = cls.map((a) => Float32Array.from(a, (v) => MU_LAW_DECODE_TABLE[v]));
      const elapsed = (performance.now() - t0) / 1000;
      o.onProgress?.({ done: e, total: T, samplesPerSecond: e / elapsed, elapsedSeconds: elapsed });
      let logits: Float32Array[] | undefined;
      if (o.recordLogits) {
        logits = [];
        for (const inst of instances) {
          const all = await engine.read(inst.stepLogits!); // testing only: small runs
          for (let b = 0; b < inst.B; b++) logits.push(all.slice((b * T + s) * 256, (b * T + e) * 256));
        }
      }
      yield { start: s, end: e, audio, classes: cls, logits };
      if (next) pending = next;
    }
  } finally {
    // Let submitted work finish before the buffers go back to the pool.
    await engine.device.queue.onSubmittedWorkDone();
    destroyDispatches(oneOff);
    for (const inst of instances) destroyDispatches(inst.dispatches);
    for (const b of staging) b.destroy();
    for (const t of owned) t.release();
  }
}
