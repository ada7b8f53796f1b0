// One training step on the GPU for a fixed batch shape: quantise the audio, the autoencoder's
// forward pass, its backward pass (both from the tape), the gradient norm and the fused Adam + EMA
// update, all prepared once and submitted as one command buffer per step. The spectrogram baseline
// trains through the same plan: its input spectrograms are made on the host (one STFT per note),
// its batch norms' moving averages are updated in the step. The parameters, their
// gradients, Adam's moments and the moving average live in flat buffers (params.ts).
import type { Engine } from '../gpu/engine.js';
import { destroyDispatches, type Dispatch } from '../gpu/registry.js';
import { MemoryBudgetError, type Tensor } from '../gpu/tensor.js';
import { PatientWait, waitsSpinAdapterCores } from '../gpu/patient-wait.js';
import { type BaselineConfig, baselineWidestActivation, isBaselineConfig } from '../model/baseline-config.js';
import { PITCH_CLASSES, type ModelConfig } from '../model/config.js';
import type { AnyConfig } from '../model/weights.js';
import { baselineInput } from '../dsp/baseline-spectrogram.js';
import { baselineLoss } from '../graph/baseline.js';
import { BaselineTape } from '../graph/gpu-tape-baseline.js';
import { EMBEDDING_DROPPED } from '../ops/concat-one-hot.js';
import { frequencyWeights } from '../ops/sigmoid-weighted-mse.js';
import { adamHyperValues, adamUpdate, HYPER_NORM_SLOT, type AdamHyper } from '../ops/adam-update.js';
import { MU_LAW_EDGES, muLawQuantize, muLawQuantizeArray } from '../ops/mu-law.js';
import { reduceSum } from '../ops/reduce-sum.js';
import { autoencoderLogits } from '../graph/wavenet.js';
import { ParamLayout } from './params.js';
import { Tape } from '../graph/gpu-tape.js';

export type FlatName = 'params' | 'm' | 'v' | 'ema';

export interface FlatState {
  params: Float32Array;
  m?: Float32Array;
  v?: Float32Array;
  ema?: Float32Array;
}

export interface PlanOptions {
  /**
   * WaveNet configs: the decoder is teacher-forced with an input the host gives each step (`step`'s
   * `decoderInput`) instead of the quantised audio itself (input-noise training).
   */
  noisyDecoderInput?: boolean;
}

export class TrainPlan {
  readonly layout: ParamLayout<AnyConfig>;
  private readonly flat: Record<FlatName | 'grads', Tensor>;
  private readonly owned: Tensor[] = [];
  private readonly audio: Tensor;
  private readonly pitch: Tensor;
  /**
   * With `noisyDecoderInput`: the decoder's teacher-forced input [B, T, 1] (scaled mu-law classes),
   * written by the host each step, while the encoder and the targets read the clean audio.
   */
  private readonly decoderInput: Tensor | null;
  /** WaveNet configs: the forward pass's logits [B, T, classes] (read by `predict`). */
  private logits: Tensor | null = null;
  /** The baseline's input log magnitudes [B, F, T, 1], written by the host. */
  private spectrogram: Tensor | null = null;
  private readonly hyper: Tensor;
  private readonly normSlots: number;
  /** Every dispatch of one step, in order (benchmarks count them). */
  readonly stepList: Dispatch[] = [];
  private readonly evalList: Dispatch[] = [];
  private readonly ownDispatches: Dispatch[] = [];
  private tape!: Tape;
  /** Parameters that receive a gradient (res_L, whose output feeds nothing, does not). */
  trained = new Set<string>();
  /**
   * How `loss()` waits for a training step and for a forward pass alone: apart, as their lengths
   * differ (src/gpu/patient-wait.ts: on CPU adapters the wait sleeps instead of spinning a core).
   */
  private readonly waits: { step: PatientWait; forward: PatientWait };
  private lastSubmitted: 'step' | 'forward' = 'step';

  private constructor(
    private readonly engine: Engine,
    readonly config: AnyConfig,
    readonly B: number,
    readonly T: number,
    noisyDecoderInput: boolean,
  ) {
    this.layout = new ParamLayout(config);
    const patient = waitsSpinAdapterCores(engine);
    this.waits = { step: new PatientWait(patient), forward: new PatientWait(patient) };
    const n = this.layout.total;
    const t = (shape: number[], dtype: 'f32' | 'u32' = 'f32') => this.own(shape, dtype);
    this.flat = { params: t([n]), grads: t([n]), m: t([n]), v: t([n]), ema: t([n]) };
    this.audio = t([B, T]);
    this.decoderInput = noisyDecoderInput ? t([B, T, 1]) : null;
    this.pitch = t([B], 'u32');
    this.normSlots = this.layout.chunks(engine).length;
    this.hyper = t([HYPER_NORM_SLOT + this.normSlots]);
  }

  /** Refuses, before anything is allocated, a batch shape the adapter cannot bind or the model cannot train on. */
  static check(engine: Engine, config: AnyConfig, B: number, T: number, o: PlanOptions = {}): void {
    if (o.noisyDecoderInput && isBaselineConfig(config))
      throw new Error(
        `The baseline ${config.name} has no autoregressive input: input noise and scheduled sampling apply to WaveNet configs`,
      );
    if (isBaselineConfig(config)) checkBaselineBatch(engine, config, B, T);
    else checkWaveNetBatch(engine, config, B, T);
  }

  static async build(
    engine: Engine,
    config: AnyConfig,
    B: number,
    T: number,
    init: FlatState,
    o: PlanOptions = {},
  ): Promise<TrainPlan> {
    TrainPlan.check(engine, config, B, T, o);
    const p = new TrainPlan(engine, config, B, T, o.noisyDecoderInput ?? false);
    try {
      await p.prepare(init);
    } catch (e) {
      p.dispose();
      if (e instanceof MemoryBudgetError)
        throw new Error(
          `A training batch of ${B} x ${T} samples of ${config.name} does not fit the GPU memory budget (${e.message}): ` +
            (isBaselineConfig(config) ? 'use a smaller --batch' : 'use a smaller --batch or --crop'),
        );
      throw e;
    }
    return p;
  }

  /** Uploads the parameters and records every dispatch of a step (allocating the tape's activations). */
  private async prepare(init: FlatState): Promise<void> {
    const { engine, config, B, T } = this;
    this.load(init);
    if (isBaselineConfig(config)) return this.prepareBaseline(config);
    const x = this.own([B, T, 1]);
    const classes = this.own([B * T], 'u32');
    const edges = this.own([MU_LAW_EDGES.length]);
    engine.write(edges, MU_LAW_EDGES);
    this.tape = new Tape(engine, (name) => this.slot(name), classes, config.pitchConditioning ? this.pitch : null);
    const quantize = await muLawQuantize(engine, this.audio, edges, x, classes);
    const input = this.tape.input(x);
    const logits = await autoencoderLogits(
      this.tape,
      config,
      input,
      this.decoderInput ? this.tape.input(this.decoderInput) : input,
    );
    this.logits = logits.t;
    await this.tape.crossEntropy(logits);
    await this.tape.backward();
    this.trained = this.tape.reached();
    const update = await this.optimiserUpdate();
    this.ownDispatches.push(quantize, ...update);
    this.evalList.push(quantize, ...this.tape.forward);
    this.stepList.push(quantize, ...this.tape.forward, ...this.tape.backwardList, ...update);
  }

  /** The baseline's step: host spectrograms in, the weighted MSE, backward, moving averages, Adam. */
  private async prepareBaseline(config: BaselineConfig): Promise<void> {
    const { engine, B } = this;
    const x = this.own([B, config.freqBins, config.timeFrames, 1]);
    this.spectrogram = x;
    const tape = new BaselineTape(engine, (name) => this.slot(name), this.pitch);
    this.tape = tape;
    const weights = frequencyWeights(config.freqBins, {
      sampleRate: config.sampleRate,
      nFft: config.nFft,
      coeff: config.fwLossCoeff,
      cutoffHz: config.fwLossCutoff,
    });
    await baselineLoss(tape, config, tape.input(x), weights);
    await tape.backward();
    this.trained = tape.reached();
    const update = await this.optimiserUpdate();
    this.ownDispatches.push(...update);
    this.evalList.push(...tape.forward);
    this.stepList.push(...tape.forward, ...tape.backwardList, ...tape.movingUpdates, ...update);
  }

  private slot(name: string): { value: Tensor; grad: Tensor } {
    return { value: this.layout.view(this.flat.params, name), grad: this.layout.view(this.flat.grads, name) };
  }

  /** Squared gradient norm per binding-sized chunk, then Adam + EMA per chunk. */
  private async optimiserUpdate(): Promise<Dispatch[]> {
    const { engine } = this;
    const update: Dispatch[] = [];
    const chunks = this.layout.chunks(engine);
    for (const [i, c] of chunks.entries()) {
      update.push(
        await reduceSum(engine, this.flat.grads.view(c.offset, [c.numel]), this.hyper, {
          slot: HYPER_NORM_SLOT + i,
          squares: true,
        }),
      );
    }
    for (const c of chunks) {
      const v = (name: FlatName | 'grads') => this.flat[name].view(c.offset, [c.numel]);
      update.push(
        await adamUpdate(engine, this.hyper, this.normSlots, v('grads'), v('params'), v('m'), v('v'), v('ema')),
      );
    }
    return update;
  }

  /** A tensor that lives as long as the plan. */
  private own(shape: number[], dtype: 'f32' | 'u32' = 'f32'): Tensor {
    const x = this.engine.tensor(shape, dtype);
    this.owned.push(x);
    return x;
  }

  /** Replaces the flat state (a fresh start: zero moments, EMA = parameters; or a checkpoint). */
  load(s: FlatState): void {
    const n = this.layout.total;
    for (const [k, a] of Object.entries(s))
      if (a && a.length !== n)
        throw new Error(`Training state "${k}" holds ${a.length} floats, config ${this.config.name} needs ${n}`);
    this.engine.write(this.flat.params, s.params);
    if (s.m) this.engine.write(this.flat.m, s.m);
    else this.engine.clear(this.flat.m);
    if (s.v) this.engine.write(this.flat.v, s.v);
    else this.engine.clear(this.flat.v);
    this.engine.write(this.flat.ema, s.ema ?? s.params);
    // Parameters without a gradient (res_L) keep a zero one forever, so Adam leaves them unchanged.
    this.engine.clear(this.flat.grads);
  }

  /**
   * Submits one step on a batch of raw audio [B, T] (and one MIDI pitch per item for
   * pitch-conditioned configs): forward, backward, Adam update number `t` (1-based). A plan built with
   * `noisyDecoderInput` takes the decoder's input too: [B, T] scaled mu-law values (class/128 - 1).
   * `embeddingDropped` (pitch-conditioned WaveNets): the items whose embedding the decoder does not
   * get this step (zeros in its place, the pitch alone; `--embedding-dropout`).
   */
  step(
    audio: Float32Array,
    h: AdamHyper,
    t: number,
    pitch?: ArrayLike<number>,
    decoderInput?: Float32Array,
    embeddingDropped?: ArrayLike<boolean>,
  ): void {
    this.writeInputs(audio, pitch, decoderInput ?? null, embeddingDropped);
    this.engine.write(this.hyper, adamHyperValues(h, t, this.normSlots));
    this.engine.run(this.stepList);
    this.lastSubmitted = 'step';
  }

  /** Submits the forward pass alone (evaluation); the loss is then read with `loss()`. */
  evaluate(audio: Float32Array, pitch?: ArrayLike<number>): void {
    // Evaluation teacher-forces with the clean audio, as inference does.
    this.writeInputs(audio, pitch, this.decoderInput ? muLawQuantizeArray(audio).scaled : null);
    this.engine.run(this.evalList);
    this.lastSubmitted = 'forward';
  }

  /**
   * The forward pass alone on a batch, teacher-forced with `decoderInput` (a plan built with
   * `noisyDecoderInput`; else the clean audio), and its logits read back [B * T * classes]: the
   * model's prediction of every sample from the given past (scheduled sampling draws from them).
   */
  async predict(audio: Float32Array, pitch?: ArrayLike<number>, decoderInput?: Float32Array): Promise<Float32Array> {
    if (!this.logits) throw new Error(`The baseline ${this.config.name} predicts no samples`);
    this.writeInputs(audio, pitch, decoderInput ?? null);
    this.engine.run(this.evalList);
    this.lastSubmitted = 'forward';
    const pending = this.engine.submit(null, [{ tensor: this.logits }])!;
    return new Float32Array(await this.waits.forward.wait(() => pending.data()));
  }

  private writeInputs(
    audio: Float32Array,
    pitch: ArrayLike<number> | undefined,
    decoderInput: Float32Array | null,
    embeddingDropped?: ArrayLike<boolean>,
  ): void {
    if (audio.length !== this.B * this.T)
      throw new Error(`Training batch holds ${audio.length} samples, expected ${this.B} x ${this.T}`);
    if (this.decoderInput) {
      if (!decoderInput || decoderInput.length !== audio.length)
        throw new Error(
          `This plan teacher-forces the decoder with a given input: pass ${this.B} x ${this.T} values (got ${decoderInput?.length ?? 'none'})`,
        );
      this.engine.write(this.decoderInput, decoderInput);
    } else if (decoderInput)
      throw new Error('This plan was built without noisyDecoderInput: it takes no decoder input');
    if (isBaselineConfig(this.config) || this.config.pitchConditioning) {
      if (!pitch || pitch.length !== this.B)
        throw new Error(
          `Config ${this.config.name} is pitch-conditioned: give one MIDI pitch per batch item (${this.B})`,
        );
      for (let i = 0; i < pitch.length; i++) {
        if (!Number.isInteger(pitch[i]) || pitch[i] < 0 || pitch[i] >= PITCH_CLASSES)
          throw new Error(`Pitch ${pitch[i]} is not a MIDI note number 0..127`);
      }
      const classes = Uint32Array.from(pitch);
      if (embeddingDropped) {
        if (isBaselineConfig(this.config) || embeddingDropped.length !== this.B)
          throw new Error(
            `Embedding dropout needs a pitch-conditioned WaveNet and one flag per batch item (${this.B})`,
          );
        for (let i = 0; i < classes.length; i++) if (embeddingDropped[i]) classes[i] += EMBEDDING_DROPPED;
      }
      this.engine.write(this.pitch, classes);
    } else if (embeddingDropped)
      throw new Error(`Config ${this.config.name} has no pitch input to keep: no embedding dropout`);
    if (this.spectrogram && isBaselineConfig(this.config)) {
      const c = this.config;
      const cells = c.freqBins * c.timeFrames;
      const all = new Float32Array(this.B * cells);
      for (let b = 0; b < this.B; b++)
        all.set(baselineInput(audio.subarray(b * this.T, (b + 1) * this.T), c), b * cells);
      this.engine.write(this.spectrogram, all);
      return;
    }
    this.engine.write(this.audio, audio);
  }

  /** Mean cross-entropy of the last submitted batch (nats per sample). */
  async loss(): Promise<number> {
    const pending = this.engine.submit(null, [{ tensor: this.tape.stats }])!;
    return new Float32Array(await this.waits[this.lastSubmitted].wait(() => pending.data()))[0];
  }

  /** Global L2 norm of the last step's gradient. */
  async gradNorm(): Promise<number> {
    const h = await this.engine.read(this.hyper);
    let sq = 0;
    for (let i = 0; i < this.normSlots; i++) sq += h[HYPER_NORM_SLOT + i];
    return Math.sqrt(sq);
  }

  async read(which: FlatName | 'grads'): Promise<Float32Array> {
    return this.engine.read(this.flat[which]) as Promise<Float32Array>;
  }

  dispose(): void {
    this.tape?.dispose();
    destroyDispatches(this.ownDispatches);
    for (const t of this.owned) t.release();
    this.owned.length = 0;
  }
}

/** Every WaveNet activation is bound whole by some kernel: the widest must fit the adapter's binding limit. */
function checkWaveNetBatch(engine: Engine, config: ModelConfig, B: number, T: number): void {
  if (T % config.hop !== 0) throw new Error(`Training crops must be a multiple of ${config.hop} samples, got ${T}`);
  const widest = Math.max(2 * config.decoder.residual, config.decoder.skip, config.numClasses, config.encoder.width);
  const limit = engine.device.limits.maxStorageBufferBindingSize;
  if (B * T * widest * 4 > limit) {
    const maxB = Math.floor(limit / (T * widest * 4));
    throw new Error(
      `A training batch of ${B} x ${T} samples needs ${((B * T * widest * 4) / 2 ** 20).toFixed(0)} MiB ` +
        `activations of ${config.name}, over this adapter's ${(limit / 2 ** 20).toFixed(0)} MiB binding limit: use a batch of at most ${maxB} at this crop, or a shorter crop`,
    );
  }
}

/** The baseline takes whole notes of config.samples; its largest activation must fit one binding. */
function checkBaselineBatch(engine: Engine, config: BaselineConfig, B: number, T: number): void {
  if (T !== config.samples)
    throw new Error(
      `The baseline ${config.name} trains on whole notes of ${config.samples} samples, got crops of ${T}`,
    );
  // Its innermost batch norms normalise 1 x 1 maps over the batch alone: one note would make them
  // output their beta whatever the input, and pass no gradient to the encoder.
  if (B < 2)
    throw new Error(
      `The baseline ${config.name} needs a batch of at least 2 notes (its batch norms on 1 x 1 maps normalise over the batch; the paper used 8)`,
    );
  const widest = baselineWidestActivation(config);
  const limit = engine.device.limits.maxStorageBufferBindingSize;
  if (B * widest * 4 > limit)
    throw new Error(
      `A baseline batch of ${B} needs a ${((B * widest * 4) / 2 ** 20).toFixed(0)} MiB activation of ${config.name}, ` +
        `over this adapter's ${(limit / 2 ** 20).toFixed(0)} MiB binding limit: use a batch of at most ${Math.max(1, Math.floor(limit / (widest * 4)))}`,
    );
}
