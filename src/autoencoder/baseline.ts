// The spectrogram baseline on the GPU for inference: weights uploaded once, the encoder and the
// decoder prepared per batch size from the one graph (graph/baseline.ts) on the tape with its batch
// norms on their moving averages; audio in through Magenta's spectrogram, out through Griffin-Lim.
import { baselineAudio, baselineInput } from '../dsp/baseline-spectrogram.js';
import type { Engine } from '../gpu/engine.js';
import type { Tensor } from '../gpu/tensor.js';
import { baselineDecoder, baselineEncoder } from '../graph/baseline.js';
import type { GpuValue } from '../graph/gpu-tape.js';
import { BaselineTape } from '../graph/gpu-tape-baseline.js';
import { type BaselineConfig, baselineWidestActivation, checkBaselineGeometry } from '../model/baseline-config.js';
import { PITCH_CLASSES } from '../model/config.js';
import type { Weights } from '../model/weights.js';

interface Stage {
  tape: BaselineTape;
  input: Tensor;
  pitches: Tensor;
  output: GpuValue;
}

export class BaselineModel {
  private readonly tensors = new Map<string, Tensor>();
  private readonly encoders = new Map<number, Stage>();
  private readonly decoders = new Map<number, Stage>();

  constructor(
    readonly engine: Engine,
    readonly weights: Weights<BaselineConfig>,
  ) {
    checkBaselineGeometry(weights.config);
    weights.validate();
    for (const [name, t] of weights.tensors) this.tensors.set(name, engine.upload(t.data, t.shape));
  }

  get config(): BaselineConfig {
    return this.weights.config;
  }

  /** Most notes one batch may hold: its largest activation must fit one storage binding. */
  maxBatch(): number {
    const limit = Math.min(
      this.engine.device.limits.maxStorageBufferBindingSize,
      this.engine.device.limits.maxBufferSize,
    );
    return Math.max(1, Math.floor(limit / (4 * baselineWidestActivation(this.config))));
  }

  /** Inference reads parameters only; the gradient slot is never written. */
  private slot = (name: string) => {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`baseline ${this.config.name}: no tensor ${name}`);
    return { value: t, grad: t };
  };

  private async stage(kind: 'encoder' | 'decoder', B: number): Promise<Stage> {
    const cache = kind === 'encoder' ? this.encoders : this.decoders;
    const have = cache.get(B);
    if (have) return have;
    if (B > this.maxBatch())
      throw new Error(
        `baseline ${this.config.name}: a batch of ${B} notes exceeds this adapter's storage binding limit (at most ${this.maxBatch()})`,
      );
    const c = this.config;
    const pitches = this.engine.tensor([B], 'u32');
    const tape = new BaselineTape(this.engine, this.slot, pitches, { batchNorm: 'moving' });
    const input =
      kind === 'encoder'
        ? this.engine.tensor([B, c.freqBins, c.timeFrames, 1])
        : this.engine.tensor([B, 1, 1, c.latent]);
    const x = tape.input(input);
    const output =
      kind === 'encoder' ? await baselineEncoder(tape, c, x) : await tape.sigmoid(await baselineDecoder(tape, c, x));
    const s = { tape, input, pitches, output };
    cache.set(B, s);
    return s;
  }

  /** Log magnitudes [B * freqBins * timeFrames] -> codes [B * latent]. */
  async encodeSpectrograms(spectrograms: Float32Array, B: number): Promise<Float32Array> {
    const s = await this.stage('encoder', B);
    this.engine.write(s.input, spectrograms);
    this.engine.run(s.tape.forward);
    return (await this.engine.read(s.output.t)) as Float32Array;
  }

  /** Codes [B * latent] and one MIDI pitch per item -> log magnitudes [B * freqBins * timeFrames] in [0, 1]. */
  async decodeCodes(codes: Float32Array, pitches: number[]): Promise<Float32Array> {
    const B = pitches.length;
    for (const p of pitches)
      if (!Number.isInteger(p) || p < 0 || p >= PITCH_CLASSES)
        throw new Error(`baseline: pitch ${p} is not MIDI 0..127`);
    const s = await this.stage('decoder', B);
    this.engine.write(s.input, codes);
    this.engine.write(s.pitches, Uint32Array.from(pitches));
    this.engine.run(s.tape.forward);
    return (await this.engine.read(s.output.t)) as Float32Array;
  }

  /** Notes (each cut or zero-padded to the config's note length) -> their codes [B * latent]. */
  async encode(notes: Float32Array[]): Promise<Float32Array> {
    const c = this.config;
    const cells = c.freqBins * c.timeFrames;
    const x = new Float32Array(notes.length * cells);
    for (const [b, n] of notes.entries()) x.set(baselineInput(n, c), b * cells);
    return this.encodeSpectrograms(x, notes.length);
  }

  /**
   * Codes -> audio by Griffin-Lim (`iterations`, 1,000 by default as in the paper), each note as long
   * as `lengths[b]` (cut, or zero-padded past the config's note length) and with the peak `peaks[b]`
   * (the spectrogram keeps only relative levels).
   */
  async decodeAudio(
    codes: Float32Array,
    pitches: number[],
    o: { lengths?: number[]; peaks?: number[]; iterations?: number; seed?: number } = {},
  ): Promise<Float32Array[]> {
    const c = this.config;
    const cells = c.freqBins * c.timeFrames;
    const mags = await this.decodeCodes(codes, pitches);
    return pitches.map((_, b) => {
      const audio = baselineAudio(mags.subarray(b * cells, (b + 1) * cells), c, {
        iterations: o.iterations,
        seed: (o.seed ?? 0) + b,
        peak: o.peaks?.[b] ?? 1,
      });
      // Exactly the length asked for: cut, or zero-padded past the config's note length.
      const out = new Float32Array(o.lengths?.[b] ?? audio.length);
      out.set(audio.subarray(0, out.length));
      return out;
    });
  }

  dispose(): void {
    for (const s of [...this.encoders.values(), ...this.decoders.values()]) {
      s.tape.dispose(); // its dispatches and activations
      s.input.release();
      s.pitches.release();
    }
    this.encoders.clear();
    this.decoders.clear();
    for (const t of this.tensors.values()) t.release();
    this.tensors.clear();
  }
}
