// The facade users import: load or make a model, then encode, decode (teacher-forced logits),
// generate, stream and save. NSynthModel only joins the two halves below it, the autoencoder
// (src/autoencoder/) and the generator (src/generate/), which know nothing of each other or of it.
import { Autoencoder, type DecodeOptions, type ModelOptions, type RunOptions } from './autoencoder/autoencoder.js';
import { fetchWeights } from './formats/weights-fetch.js';
import { Generator } from './generate/generator.js';
import type { AudioChunk, GenerateOptions, GeneratorInternals, GeneratorResources } from './generate/types.js';
import type { Engine } from './gpu/engine.js';
import { getConfig, type ModelConfig } from './model/config.js';
import type { EmbeddingInput, HostTensor } from './model/inputs.js';
import { type InitOptions, initWeights, type Weights } from './model/weights.js';

export type { DecodeOptions, ModelOptions, RunOptions };

/**
 * Several embeddings in one tensor, [voices, frames, 16]: what `encode` gives for an array of notes.
 * `generate` gives one Float32Array per voice for it (the shape's length tells the types).
 */
export interface EmbeddingBatch extends HostTensor {
  shape: [number, number, number];
}

export class NSynthModel {
  readonly config: ModelConfig;
  private readonly autoencoder: Autoencoder;
  private readonly generator: Generator;
  private disposed = false;

  private constructor(
    readonly engine: Engine,
    readonly weights: Weights,
    readonly options: ModelOptions,
  ) {
    this.config = weights.config;
    this.autoencoder = new Autoencoder(engine, weights, options);
    this.generator = new Generator(engine, weights);
  }

  /** Checks the weights against their config and uploads them. */
  static async create(engine: Engine, weights: Weights, options: ModelOptions = {}): Promise<NSynthModel> {
    return new NSynthModel(engine, weights, options);
  }

  /**
   * Encodes 16 kHz mono audio into the embedding. One note gives [frames, 16]; an array of notes
   * gives [batch, frames, 16], shorter notes zero-padded to the longest (as Magenta batches them).
   */
  encode(audio: Float32Array, o?: RunOptions): Promise<HostTensor>;
  encode(audio: Float32Array[], o?: RunOptions): Promise<EmbeddingBatch>;
  encode(audio: Float32Array | Float32Array[], o?: RunOptions): Promise<HostTensor>;
  encode(audio: Float32Array | Float32Array[], o: RunOptions = {}): Promise<HostTensor> {
    this.checkAlive();
    return this.autoencoder.encode(audio, o);
  }

  /**
   * The decoder over a whole sequence with the true audio as its input (teacher forcing): logits
   * [T, 256] for one note, [B, T, 256] for several. Without an embedding, the audio is encoded first.
   */
  teacherForcedLogits(
    audio: Float32Array | Float32Array[],
    embedding?: HostTensor | Float32Array | null,
    o: DecodeOptions = {},
  ): Promise<HostTensor> {
    this.checkAlive();
    return this.autoencoder.teacherForcedLogits(audio, embedding, o);
  }

  /**
   * Audio chunks as they are generated: each chunk holds [start, end) of every voice. Voices of
   * different lengths are zero-padded to the longest (as Magenta's load_batch_encodings); break
   * out of the loop or abort the signal to stop, and every GPU buffer is freed.
   */
  stream(embedding: EmbeddingInput, o: GenerateOptions & GeneratorInternals = {}): AsyncGenerator<AudioChunk> {
    this.checkAlive();
    return this.generator.stream(embedding, o);
  }

  /**
   * Generates audio from embeddings: each voice is as long as its own embedding (frames * 512
   * samples). An array of embeddings, or a batch [voices, frames, 16], gives one Float32Array per
   * voice; one embedding ([frames, 16] or a flat Float32Array) gives its Float32Array. (The types
   * tell a batch by its shape's type: a [voices, frames, 16] tensor built by hand is an
   * EmbeddingBatch, or the voices go in an array.)
   */
  generate(
    embedding: EmbeddingBatch | (HostTensor | Float32Array)[],
    o?: GenerateOptions & GeneratorInternals,
  ): Promise<Float32Array[]>;
  generate(embedding: HostTensor | Float32Array, o?: GenerateOptions & GeneratorInternals): Promise<Float32Array>;
  async generate(
    embedding: EmbeddingInput,
    o: GenerateOptions & GeneratorInternals = {},
  ): Promise<Float32Array | Float32Array[]> {
    this.checkAlive();
    const out = await this.generator.generate(embedding, o);
    const oneVoice = !Array.isArray(embedding) && (embedding instanceof Float32Array || embedding.shape.length !== 3);
    return oneVoice ? out[0] : out;
  }

  /** The generator's view of this model (its step-laid-out weights are packed on first use). */
  generatorResources(): GeneratorResources {
    this.checkAlive();
    return this.generator.resources();
  }

  /** Writes the weights as a folder (manifest.json + weights.bin). Node only. */
  async save(dir: string, o: { dtype?: 'f32' | 'f16'; meta?: Record<string, unknown> } = {}): Promise<void> {
    const { writeWeightsDir } = await import('./formats/weights-node.js');
    writeWeightsDir(dir, this.weights, o.dtype ?? 'f32', o.meta);
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('this model was disposed');
  }

  /** Frees every GPU buffer the model holds. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.autoencoder.dispose();
    this.generator.dispose();
  }
}

/** A file: URL's path, percent-escapes decoded (/C:/x on Windows is C:/x); no node:url, as pages load this module too. */
function fileUrlPath(u: string): string {
  const p = decodeURIComponent(new URL(u).pathname);
  return /^\/[A-Za-z]:/.test(p) ? p.slice(1) : p;
}

/** A URL, or anything outside Node (a page or a Web Worker, where there is no file system to read). */
function isUrl(s: string): boolean {
  const node = typeof process !== 'undefined' && !!process.versions?.node;
  return /^(https?|file|blob|data):/i.test(s) || !node;
}

/** Loads a weights folder (manifest.json + weights.bin) from a path (Node) or a URL. */
export async function loadWeights(pathOrUrl: string): Promise<Weights> {
  if (isUrl(pathOrUrl) && !pathOrUrl.startsWith('file:')) return fetchWeights(pathOrUrl);
  const { readWeightsDir } = await import('./formats/weights-node.js');
  const path = pathOrUrl.startsWith('file:') ? fileUrlPath(pathOrUrl) : pathOrUrl;
  return readWeightsDir(path);
}

/** Loads a model and uploads its weights to the engine's device. */
export async function loadModel(engine: Engine, pathOrUrl: string, options: ModelOptions = {}): Promise<NSynthModel> {
  return NSynthModel.create(engine, await loadWeights(pathOrUrl), options);
}

/** A randomly initialised model (Magenta's initialisation, seeded). */
export async function randomModel(
  engine: Engine,
  config: string | ModelConfig,
  seed: number,
  options: ModelOptions & InitOptions = {},
): Promise<NSynthModel> {
  const c = typeof config === 'string' ? getConfig(config) : config;
  return NSynthModel.create(engine, initWeights(c, seed, options), options);
}

/** A model from weights already in memory. */
export function modelFromWeights(engine: Engine, weights: Weights, options: ModelOptions = {}): Promise<NSynthModel> {
  return NSynthModel.create(engine, weights, options);
}
