// The types of the generation API: options, progress, chunks, and what the generator needs of a model.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { ModelConfig } from '../model/config.js';
import type { GenWeights } from './gen-weights.js';

export interface GenerateOptions {
  /**
   * Seed of the counter-based RNG (default 0). Same seed, same audio; each voice has its own stream.
   * One per voice: voice v draws what a lone voice with seed[v] would, whatever batch it runs in
   * (bulk rendering: a job's audio does not depend on the jobs beside it).
   */
  seed?: number | number[];
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
  /** Steps encoded per queue submit (default: about 1024 dispatches' worth; a cancel waits for at most a few submits). */
  stepsPerSubmit?: number;
  /**
   * `layered`: 2L + 2 dispatches per step, every voice group spread over the GPU (large configs).
   * `voice-loop`: one workgroup per voice runs many steps per dispatch (small configs, widths
   * up to 256). `voice-lanes`: the same with one 8-lane subgroup per voice and no workgroup
   * memory, for CPU adapters (needs subgroups; residual and skip widths divisible by 32, up to 64
   * and 128). `fused`: L + 2 dispatches per step, each layer's residual folded into the next
   * layer's tap and every matvec split across a workgroup (GPUs: enough workgroups at batch 1, half
   * the dependent dispatches). `auto` (default) picks by config and adapter: measured once per
   * adapter and cached (src/generate/tuning.ts), or by the measured rules where tuning is off.
   */
  path?: GenerationPath;
  /**
   * How the fused and layered paths store their weight matrices: `f32`, or `f16` (half the bytes;
   * rounds weights that are not exact halves, changing logits by about 1e-3). `auto`
   * (default): f16 where the adapter has shader-f16, else f32; the layered path's other storage is
   * timed against it and replaces it where 10% faster.
   */
  weightStorage?: 'auto' | 'f32' | 'f16';
  /**
   * The fused path's workgroup shape, forcing the tuned one: C4 output vec4s a workgroup, the
   * reduction split KS ways, VT voices a workgroup; `layout: 'rows'` stores the matrices a row per
   * output (for wide GPUs; 4 * C4 * KS threads, else C4 * KS).
   */
  fusedShape?: { C4: number; KS: number; VT: number; layout?: 'rows' };
  /**
   * Told each candidate's speed while `auto` times the kernels on first use of this adapter, config
   * and batch size (seconds on a software adapter; nothing is generated meanwhile), so a caller can
   * say why the first chunk is late.
   */
  onTuning?: (line: string) => void;
}

export type GenerationPath = 'auto' | 'layered' | 'fused' | 'voice-loop' | 'voice-lanes';

/** A path that runs: what `auto` resolves to. */
export type ResolvedPath = Exclude<GenerationPath, 'auto'>;

export interface GenerateProgress {
  done: number;
  total: number;
  /** Samples per second per voice so far. */
  samplesPerSecond: number;
  elapsedSeconds: number;
}

/**
 * Testing hooks: feed given classes instead of the sampled ones, and keep every step's logits. Each
 * member is tagged internal: left out of the published declarations (tsconfig's stripInternal).
 */
export interface GeneratorInternals {
  /** @internal */
  teacher?: Uint32Array[];
  /** @internal */
  recordLogits?: boolean;
  /** @internal RNG voice index of voice 0 (generate's successive batches keep every voice's own stream). */
  voiceOffset?: number;
  /** @internal Cap on voices per instance (normally set by the adapter's binding limit). */
  maxVoicesPerInstance?: number;
  /**
   * @internal A storage-binding limit below the adapter's (bytes), so that small tests split voices into
   * instances and layers into groups as a large model's batch does on a real adapter.
   */
  maxBindingBytes?: number;
  /** @internal Stop after this many steps (the tuner times a few steps of a longer input). */
  stopAfter?: number;
  /**
   * @internal Called once the conditioning is computed, before the first step, with the dispatches of one
   * step of every instance in order (`nsynth bench generate --profile` times them). They may run:
   * the voices' state is reset and the conditioning recomputed afterwards, so the audio is as
   * without the call.
   */
  profileStep?: (step: Dispatch[]) => Promise<void>;
}

export interface AudioChunk {
  /** Sample range [start, end) of this chunk. */
  start: number;
  end: number;
  /** One Float32Array per voice. */
  audio: Float32Array[];
  /** Sampled mu-law classes per voice. */
  classes: Uint32Array[];
  /** @internal Per voice, the logits [end - start, 256] of every step (only with the testing hook `recordLogits`). */
  logits?: Float32Array[];
}

/** What the step loop needs of a model: the device, the config and the step-laid-out weights. */
export interface GeneratorResources {
  engine: Engine;
  config: ModelConfig;
  gen: GenWeights;
}
