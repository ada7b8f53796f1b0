// The NSynth WaveNet autoencoder on the GPU: weights uploaded once, execution plans cached per
// (batch, window), long notes processed in exact overlapping windows (see segments.ts).
import type { Engine } from '../gpu/engine.js';
import type { Tensor } from '../gpu/tensor.js';
import { MU_LAW_DECODE_TABLE, MU_LAW_EDGES } from '../ops/mulaw.js';
import { conditioningWidth, decoderLayers, decoderReceptiveField, encoderReach, PITCH_CLASSES, type ModelConfig } from './config.js';
import { embeddingVoices, fitLength, padVoices, splitEmbedding, type HostTensor, type LengthPolicy } from './inputs.js';
import { DecoderPlan, EncoderPlan, type GpuWeights, type Plan } from './plans.js';
import { planSegments } from './segments.js';
import type { Weights } from './weights.js';
import { packGenWeights, type GenWeights } from '../generate/gen-weights.js';
import { generateChunks, type AudioChunk, type GenerateOptions, type GeneratorInternals, type GeneratorResources } from '../generate/fast.js';

/** An embedding: [frames, 16], [batch, frames, 16], or one per voice (lengths may differ). */
export type EmbeddingInput = HostTensor | Float32Array | (HostTensor | Float32Array)[];

export interface RunOptions {
  /** What to do with a length that is not a multiple of 512: trim (default, as Magenta), pad with zeros, or refuse. */
  lengthPolicy?: LengthPolicy;
}

export interface DecodeOptions extends RunOptions {
  /** MIDI pitch per note (0..127), required by pitch-conditioned configs. */
  pitch?: number | number[];
}

export interface ModelOptions {
  /** Largest window (samples) processed in one pass; default from the adapter's limits and a 256 MB budget. */
  maxWindow?: number;
}

/** Activation budget per plan, in floats (512 MB): h512_bo16 windows of ~11k samples at batch 4. */
const PLAN_BUDGET_FLOATS = 128 * 1024 * 1024;
const MAX_CACHED_PLANS = 4;

export class NSynthModel {
  readonly config: ModelConfig;
  private readonly gpu = new Map<string, Tensor>();
  private gpuWeights!: GpuWeights;
  private readonly plans = new Map<string, Plan>();
  private genWeights: GenWeights | null = null;
  private disposed = false;

  private constructor(readonly engine: Engine, readonly weights: Weights, readonly options: ModelOptions) {
    this.config = weights.config;
  }

  static async create(engine: Engine, weights: Weights, options: ModelOptions = {}): Promise<NSynthModel> {
    weights.validate();
    const m = new NSynthModel(engine, weights, options);
    m.upload();
    return m;
  }

  private upload(): void {
    const c = this.config;
    for (const [name, t] of this.weights.tensors) this.gpu.set(name, this.engine.upload(t.data, t.shape, name));
    // Pack every conditioning projection side by side: [E, L*2R + S].
    const L = decoderLayers(c);
    const E = conditioningWidth(c);
    const R2 = 2 * c.decoder.residual;
    const stride = L * R2 + c.decoder.skip;
    const W = new Float32Array(E * stride);
    const B = new Float32Array(stride);
    const place = (name: string, width: number, at: number) => {
      const w = this.weights.get(`${name}/W`).data;
      for (let e = 0; e < E; e++) W.set(w.subarray(e * width, (e + 1) * width), e * stride + at);
      B.set(this.weights.get(`${name}/biases`).data, at);
    };
    for (let i = 1; i <= L; i++) place(`cond_map_${i}`, R2, (i - 1) * R2);
    place('cond_map_out1', c.decoder.skip, L * R2);
    const condW = this.engine.upload(W, [1, 1, E, stride], 'cond/W');
    const condB = this.engine.upload(B, [stride], 'cond/biases');
    const edges = this.engine.upload(MU_LAW_EDGES, [129], 'mu_law_edges');
    const decodeTable = this.engine.upload(MU_LAW_DECODE_TABLE, [256], 'mu_law_table');
    for (const [k, t] of Object.entries({ condW, condB, edges, decodeTable })) this.gpu.set(`#${k}`, t);
    const gpu = this.gpu;
    this.gpuWeights = {
      get(name: string) {
        const t = gpu.get(name);
        if (!t) throw new Error(`no GPU tensor ${name}`);
        return t;
      },
      condW, condB, condStride: stride, edges, decodeTable,
    };
  }

  /** Frames of embedding per note for a given (fitted) length. */
  framesFor(samples: number): number {
    return samples / this.config.hop;
  }

  /**
   * Encodes 16 kHz mono audio into the embedding. One note gives [frames, 16]; an array of notes
   * gives [batch, frames, 16], shorter notes zero-padded to the longest (as Magenta batches them).
   */
  async encode(audio: Float32Array | Float32Array[], o: RunOptions = {}): Promise<HostTensor> {
    this.checkAlive();
    const c = this.config;
    const notes = (Array.isArray(audio) ? audio : [audio]).map((a, i) => fitLength(a, c.hop, o.lengthPolicy ?? 'trim', Array.isArray(audio) ? `audio[${i}]` : 'audio'));
    if (notes.length === 0) throw new Error('encode: no audio given');
    const B = notes.length;
    const T = Math.max(...notes.map((n) => n.length));
    const F = T / c.hop;
    const bn = c.bottleneck;
    const out = new Float32Array(B * F * bn);
    const ctx = Math.ceil(encoderReach(c) / c.hop) * c.hop;
    const window = this.windowFor(B, c.encoder.width, 2 * c.encoder.width + c.bottleneck + 2, 2 * ctx);
    for (const seg of planSegments(T, window, ctx, ctx, c.hop)) {
      const Tw = seg.w1 - seg.w0;
      const plan = await this.plan('enc', B, Tw, () => EncoderPlan.build(this.engine, c, this.gpuWeights, B, Tw));
      for (let b = 0; b < B; b++) this.engine.write(plan.audio, windowOf(notes[b], seg.w0, seg.w1), b * Tw * 4);
      plan.run();
      const emb = await this.engine.read(plan.embedding);
      const Fw = Tw / c.hop;
      const f0 = (seg.c0 - seg.w0) / c.hop;
      const nf = (seg.c1 - seg.c0) / c.hop;
      for (let b = 0; b < B; b++) {
        out.set(emb.subarray((b * Fw + f0) * bn, (b * Fw + f0 + nf) * bn), (b * F + seg.c0 / c.hop) * bn);
      }
    }
    return { data: out, shape: Array.isArray(audio) ? [B, F, bn] : [F, bn] };
  }

  /**
   * The decoder over a whole sequence with the true audio as its input (teacher forcing): logits
   * [T, 256] for one note, [B, T, 256] for several. Without an embedding, the audio is encoded first.
   */
  async teacherForcedLogits(audio: Float32Array | Float32Array[], embedding?: HostTensor | Float32Array | null, o: DecodeOptions = {}): Promise<HostTensor> {
    this.checkAlive();
    const c = this.config;
    const batched = Array.isArray(audio);
    const notes = (batched ? audio : [audio]).map((a, i) => fitLength(a, c.hop, o.lengthPolicy ?? 'trim', batched ? `audio[${i}]` : 'audio'));
    if (notes.length === 0) throw new Error('teacherForcedLogits: no audio given');
    const B = notes.length;
    const T = Math.max(...notes.map((n) => n.length));
    const F = T / c.hop;
    const emb = splitEmbedding(embedding ?? (await this.encode(notes)), c.bottleneck);
    if (emb.length !== B) throw new Error(`teacherForcedLogits: ${B} notes of audio but ${emb.length} embeddings`);
    emb.forEach((e, b) => {
      if (e.length / c.bottleneck !== F) throw new Error(`embedding ${B > 1 ? `[${b}] ` : ''}has ${e.length / c.bottleneck} frames, the audio needs ${F} (${T} samples / ${c.hop})`);
    });
    const cond = this.conditioning(emb, B, F, o.pitch);
    const E = conditioningWidth(c);
    const C = c.numClasses;
    const { residual: R, skip: S } = c.decoder;
    const out = new Float32Array(B * T * C);
    const ctx = Math.ceil(decoderReceptiveField(c) / c.hop) * c.hop;
    const window = this.windowFor(B, Math.max(2 * R, C), 4 * R + 2 * S + C + 2, ctx);
    for (const seg of planSegments(T, window, ctx, 0, c.hop)) {
      const Tw = seg.w1 - seg.w0;
      const Fw = Tw / c.hop;
      const plan = await this.plan('dec', B, Tw, () => DecoderPlan.build(this.engine, c, this.gpuWeights, B, Tw));
      for (let b = 0; b < B; b++) {
        this.engine.write(plan.audio, windowOf(notes[b], seg.w0, seg.w1), b * Tw * 4);
        this.engine.write(plan.condInput, cond.subarray((b * F + seg.w0 / c.hop) * E, (b * F + seg.w0 / c.hop + Fw) * E), b * Fw * E * 4);
      }
      plan.run();
      const logits = await this.engine.read(plan.logits);
      const k0 = seg.c0 - seg.w0;
      const n = seg.c1 - seg.c0;
      for (let b = 0; b < B; b++) out.set(logits.subarray((b * Tw + k0) * C, (b * Tw + k0 + n) * C), (b * T + seg.c0) * C);
    }
    return { data: out, shape: batched ? [B, T, C] : [T, C] };
  }

  /** [B, F, E]: the embedding, with a one-hot pitch appended where the config asks for one. */
  private conditioning(emb: Float32Array[], B: number, F: number, pitch?: number | number[]): Float32Array {
    const c = this.config;
    const E = conditioningWidth(c);
    const out = new Float32Array(B * F * E);
    const pitches = pitch === undefined ? undefined : Array.isArray(pitch) ? pitch : [pitch];
    if (c.pitchConditioning) {
      if (!pitches || pitches.length !== B) throw new Error(`config ${c.name} is pitch-conditioned: give one MIDI pitch per note (${B})`);
      for (const p of pitches) if (!Number.isInteger(p) || p < 0 || p >= PITCH_CLASSES) throw new Error(`pitch ${p} is not a MIDI note number 0..127`);
    }
    for (let b = 0; b < B; b++) {
      for (let f = 0; f < F; f++) {
        out.set(emb[b].subarray(f * c.bottleneck, (f + 1) * c.bottleneck), (b * F + f) * E);
        if (c.pitchConditioning) out[(b * F + f) * E + c.bottleneck + pitches![b]] = 1;
      }
    }
    return out;
  }

  /** Samples per window for a batch: bounded by the storage-binding limit and the plan budget. */
  private windowFor(B: number, widest: number, perSample: number, context: number): number {
    const hop = this.config.hop;
    const bindingFloats = Math.min(this.engine.device.limits.maxStorageBufferBindingSize, this.engine.device.limits.maxBufferSize) / 4;
    let w = Math.min(Math.floor(bindingFloats / (B * widest)), Math.floor(PLAN_BUDGET_FLOATS / (B * perSample)));
    if (this.options.maxWindow) w = Math.min(w, this.options.maxWindow);
    w = Math.floor(w / hop) * hop;
    if (w <= context) {
      throw new Error(`batch of ${B} is too large for this adapter: a window of ${w} samples cannot hold the ${context}-sample context; use a smaller batch`);
    }
    return w;
  }

  private async plan<P extends Plan>(kind: string, B: number, T: number, build: () => Promise<P>): Promise<P> {
    const key = `${kind}:${B}x${T}`;
    let p = this.plans.get(key) as P | undefined;
    if (p) {
      this.plans.delete(key); // re-insert as most recently used
    } else {
      p = await build();
      if (this.plans.size >= MAX_CACHED_PLANS) {
        const [oldKey, old] = this.plans.entries().next().value as [string, Plan];
        await this.engine.sync();
        old.dispose();
        this.plans.delete(oldKey);
      }
    }
    this.plans.set(key, p);
    return p;
  }

  /** Per-voice embeddings from any accepted embedding form; checked before any GPU work. */
  private voices(embedding: EmbeddingInput): Float32Array[] {
    return embeddingVoices(embedding, this.config.bottleneck);
  }

  /** The generator's view of this model (its step-laid-out weights are packed on first use). */
  generatorResources(): GeneratorResources {
    this.checkAlive();
    this.genWeights ??= packGenWeights(this.engine, this.weights);
    return { engine: this.engine, config: this.config, gen: this.genWeights, condW: this.gpuWeights.condW };
  }

  /**
   * Audio chunks as they are generated: each chunk holds [start, end) of every voice. Voices of
   * different lengths are zero-padded to the longest (as Magenta's load_batch_encodings); break
   * out of the loop or abort the signal to stop, and every GPU buffer is freed.
   */
  stream(embedding: EmbeddingInput, o: GenerateOptions & GeneratorInternals = {}): AsyncGenerator<AudioChunk> {
    const voices = this.voices(embedding);
    const { padded, frames: F } = padVoices(voices, this.config.bottleneck);
    const cond = this.conditioning(padded, voices.length, F, o.pitch);
    return generateChunks(this.generatorResources(), voices.length, F, cond, o);
  }

  /**
   * Generates audio from an embedding: one Float32Array for one voice ([frames, 16]), an array
   * for several; each voice is as long as its own embedding (frames * 512 samples).
   */
  async generate(embedding: EmbeddingInput, o: GenerateOptions & GeneratorInternals = {}): Promise<Float32Array | Float32Array[]> {
    const voices = this.voices(embedding);
    const bn = this.config.bottleneck;
    const lengths = voices.map((v) => (v.length / bn) * this.config.hop);
    const out = lengths.map((n) => new Float32Array(n));
    const batch = o.batch ?? voices.length;
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
    const pitches = o.pitch === undefined || typeof o.pitch === 'number' ? undefined : o.pitch;
    for (let v0 = 0; v0 < voices.length; v0 += batch) {
      const group = voices.slice(v0, v0 + batch).map((v) => ({ data: v, shape: [v.length / bn, bn] }));
      const opts = { ...o, pitch: pitches ? pitches.slice(v0, v0 + batch) : o.pitch, teacher: o.teacher?.slice(v0, v0 + batch), voiceOffset: (o.voiceOffset ?? 0) + v0 };
      for await (const chunk of this.stream(group, opts)) {
        chunk.audio.forEach((a, j) => {
          const b = v0 + j;
          if (chunk.start < lengths[b]) out[b].set(a.subarray(0, Math.min(a.length, lengths[b] - chunk.start)), chunk.start);
        });
      }
    }
    const single = !Array.isArray(embedding) && !(embedding instanceof Float32Array ? false : embedding.shape.length === 3);
    return single ? out[0] : out;
  }

  /** Writes the weights as weights/<name>/ (manifest.json + weights.bin). Node only. */
  async save(dir: string, o: { dtype?: 'f32' | 'f16'; meta?: Record<string, unknown> } = {}): Promise<void> {
    const { writeWeightsDir } = await import('../io/weights-node.js');
    writeWeightsDir(dir, this.weights, o.dtype ?? 'f32', o.meta);
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('this model was disposed');
  }

  /** Frees every GPU buffer the model holds. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.plans.values()) p.dispose();
    this.plans.clear();
    for (const t of this.gpu.values()) t.release();
    this.gpu.clear();
    this.genWeights?.release();
    this.genWeights = null;
  }
}

/** The part [w0, w1) of a note, zero beyond its end (notes shorter than the batch's longest). */
function windowOf(note: Float32Array, w0: number, w1: number): Float32Array {
  if (w1 <= note.length) return note.subarray(w0, w1);
  const out = new Float32Array(w1 - w0);
  if (w0 < note.length) out.set(note.subarray(w0));
  return out;
}
