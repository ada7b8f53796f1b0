// The autoencoder on the GPU: weights uploaded once, the encoder and the teacher-forced decoder run
// as cached plans per (batch, window), long notes processed in exact overlapping windows
// (model/segments.ts). It knows nothing of generation; the facade (src/nsynth.ts) puts the two together.
import type { Engine } from '../gpu/engine.js';
import { PatientWait, waitsSpinAdapterCores } from '../gpu/patient-wait.js';
import type { Tensor } from '../gpu/tensor.js';
import { decoderReceptiveField, encoderReach } from '../model/config.js';
import { fitLength, type HostTensor, type LengthPolicy, notePitches, splitEmbedding } from '../model/inputs.js';
import { planSegments } from '../model/segments.js';
import type { Weights } from '../model/weights.js';
import { MU_LAW_EDGES } from '../ops/mu-law.js';
import { AutoencoderPlan, type GpuWeights } from './plans.js';

export interface RunOptions {
  /** What to do with a length that is not a multiple of 512: trim (default, as Magenta), pad with zeros, or refuse. */
  lengthPolicy?: LengthPolicy;
}

export interface DecodeOptions extends RunOptions {
  /** MIDI pitch per note (0..127), required by pitch-conditioned configs. */
  pitch?: number | number[];
}

export interface ModelOptions {
  /** Largest window (samples) processed in one pass; default from the adapter's limits and a 512 MB budget. */
  maxWindow?: number;
}

/** Activation budget per plan, in floats (512 MB): h512_bo16 windows of ~11k samples at batch 4. */
const PLAN_BUDGET_FLOATS = 128 * 1024 * 1024;
const MAX_CACHED_PLANS = 4;

export class Autoencoder {
  private readonly gpu = new Map<string, Tensor>();
  private readonly gpuWeights: GpuWeights;
  private readonly plans = new Map<string, AutoencoderPlan>();
  /** How each plan's output is waited for (src/gpu/patient-wait.ts): one per plan, whose runs last alike. */
  private readonly waits = new Map<string, PatientWait>();

  constructor(
    readonly engine: Engine,
    readonly weights: Weights,
    readonly options: ModelOptions = {},
  ) {
    weights.validate();
    for (const [name, t] of weights.tensors) this.gpu.set(name, engine.upload(t.data, t.shape, name));
    const edges = engine.upload(MU_LAW_EDGES, [MU_LAW_EDGES.length], 'mu_law_edges');
    this.gpu.set('#edges', edges);
    const gpu = this.gpu;
    this.gpuWeights = {
      get(name: string) {
        const t = gpu.get(name);
        if (!t) throw new Error(`no GPU tensor ${name}`);
        return t;
      },
      edges,
    };
  }

  get config() {
    return this.weights.config;
  }

  /**
   * Encodes 16 kHz mono audio into the embedding. One note gives [frames, 16]; an array of notes
   * gives [batch, frames, 16], shorter notes zero-padded to the longest (as Magenta batches them).
   */
  async encode(audio: Float32Array | Float32Array[], o: RunOptions = {}): Promise<HostTensor> {
    const c = this.config;
    const batched = Array.isArray(audio);
    const notes = (batched ? audio : [audio]).map((a, i) =>
      fitLength(a, c.hop, o.lengthPolicy ?? 'trim', batched ? `audio[${i}]` : 'audio'),
    );
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
      const plan = await this.plan('encoder', B, Tw);
      for (let b = 0; b < B; b++) this.engine.write(plan.audio, windowOf(notes[b], seg.w0, seg.w1), b * Tw * 4);
      plan.run();
      const emb = await this.readOutput('encoder', B, Tw, plan);
      const Fw = Tw / c.hop;
      const f0 = (seg.c0 - seg.w0) / c.hop;
      const nf = (seg.c1 - seg.c0) / c.hop;
      for (let b = 0; b < B; b++) {
        out.set(emb.subarray((b * Fw + f0) * bn, (b * Fw + f0 + nf) * bn), (b * F + seg.c0 / c.hop) * bn);
      }
    }
    return { data: out, shape: batched ? [B, F, bn] : [F, bn] };
  }

  /**
   * The decoder over a whole sequence with the true audio as its input (teacher forcing): logits
   * [T, 256] for one note, [B, T, 256] for several. Without an embedding, the audio is encoded first.
   */
  async teacherForcedLogits(
    audio: Float32Array | Float32Array[],
    embedding?: HostTensor | Float32Array | null,
    o: DecodeOptions = {},
  ): Promise<HostTensor> {
    const c = this.config;
    const batched = Array.isArray(audio);
    const notes = (batched ? audio : [audio]).map((a, i) =>
      fitLength(a, c.hop, o.lengthPolicy ?? 'trim', batched ? `audio[${i}]` : 'audio'),
    );
    if (notes.length === 0) throw new Error('teacherForcedLogits: no audio given');
    const B = notes.length;
    const T = Math.max(...notes.map((n) => n.length));
    const F = T / c.hop;
    const bn = c.bottleneck;
    const emb = splitEmbedding(embedding ?? (await this.encode(notes)), bn);
    if (emb.length !== B) throw new Error(`teacherForcedLogits: ${B} notes of audio but ${emb.length} embeddings`);
    emb.forEach((e, b) => {
      if (e.length / bn !== F)
        throw new Error(
          `embedding ${B > 1 ? `[${b}] ` : ''}has ${e.length / bn} frames, the audio needs ${F} (${T} samples / ` +
            `${c.hop})`,
        );
    });
    const pitches = notePitches(c, o.pitch, B);
    const C = c.numClasses;
    const { residual: R, skip: S } = c.decoder;
    const out = new Float32Array(B * T * C);
    const ctx = Math.ceil(decoderReceptiveField(c) / c.hop) * c.hop;
    const window = this.windowFor(B, Math.max(2 * R, C), 4 * R + 2 * S + C + 2, ctx);
    for (const seg of planSegments(T, window, ctx, 0, c.hop)) {
      const Tw = seg.w1 - seg.w0;
      const Fw = Tw / c.hop;
      const f0 = seg.w0 / c.hop;
      const plan = await this.plan('decoder', B, Tw);
      for (let b = 0; b < B; b++) {
        this.engine.write(plan.audio, windowOf(notes[b], seg.w0, seg.w1), b * Tw * 4);
        this.engine.write(plan.embedding!, emb[b].subarray(f0 * bn, (f0 + Fw) * bn), b * Fw * bn * 4);
      }
      if (plan.pitch) this.engine.write(plan.pitch, Uint32Array.from(pitches!));
      plan.run();
      const logits = await this.readOutput('decoder', B, Tw, plan);
      const k0 = seg.c0 - seg.w0;
      const n = seg.c1 - seg.c0;
      for (let b = 0; b < B; b++)
        out.set(logits.subarray((b * Tw + k0) * C, (b * Tw + k0 + n) * C), (b * T + seg.c0) * C);
    }
    return { data: out, shape: batched ? [B, T, C] : [T, C] };
  }

  /** Samples per window for a batch: bounded by the storage-binding limit and the plan budget. */
  private windowFor(B: number, widest: number, perSample: number, context: number): number {
    const hop = this.config.hop;
    const limits = this.engine.device.limits;
    const bindingFloats = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / 4;
    let w = Math.min(Math.floor(bindingFloats / (B * widest)), Math.floor(PLAN_BUDGET_FLOATS / (B * perSample)));
    if (this.options.maxWindow) w = Math.min(w, this.options.maxWindow);
    w = Math.floor(w / hop) * hop;
    if (w <= context) {
      throw new Error(
        `batch of ${B} is too large for this adapter: a window of ${w} samples cannot hold the ${context}-sample ` +
          `context; use a smaller batch`,
      );
    }
    return w;
  }

  /**
   * A plan's output, just run, read back. In Node on a CPU adapter the wait sleeps most of what this
   * plan's runs have taken before (a pending read would have Dawn's binding spin a core the adapter
   * needs); a batch of notes of one length (`nsynth eval`) waits this way from its second note on.
   */
  private async readOutput(
    kind: 'encoder' | 'decoder',
    B: number,
    T: number,
    plan: AutoencoderPlan,
  ): Promise<Float32Array> {
    const key = `${kind}:${B}x${T}`;
    let wait = this.waits.get(key);
    if (!wait) {
      wait = new PatientWait(waitsSpinAdapterCores(this.engine));
      this.waits.set(key, wait);
    }
    const pending = this.engine.submit(null, [{ tensor: plan.output }])!;
    return new Float32Array(await wait.wait(() => pending.data()));
  }

  /** The plan for (kind, B, T), built on first use; the least recently used one goes beyond four. */
  private async plan(kind: 'encoder' | 'decoder', B: number, T: number): Promise<AutoencoderPlan> {
    const key = `${kind}:${B}x${T}`;
    let p = this.plans.get(key);
    if (p) {
      this.plans.delete(key); // re-inserted below as the most recently used
    } else {
      p = await AutoencoderPlan.build(this.engine, kind, this.config, this.gpuWeights, B, T);
      if (this.plans.size >= MAX_CACHED_PLANS) {
        const [oldKey, old] = this.plans.entries().next().value as [string, AutoencoderPlan];
        await this.engine.sync();
        old.dispose();
        this.plans.delete(oldKey);
        this.waits.delete(oldKey);
      }
    }
    this.plans.set(key, p);
    return p;
  }

  /** Frees every GPU buffer the autoencoder holds. */
  dispose(): void {
    for (const p of this.plans.values()) p.dispose();
    this.plans.clear();
    for (const t of this.gpu.values()) t.release();
    this.gpu.clear();
  }
}

/** The part [w0, w1) of a note, zero beyond its end (notes shorter than the batch's longest). */
function windowOf(note: Float32Array, w0: number, w1: number): Float32Array {
  if (w1 <= note.length) return note.subarray(w0, w1);
  const out = new Float32Array(w1 - w0);
  if (w0 < note.length) out.set(note.subarray(w0));
  return out;
}
