// Training batches from a note source: a held-out split by instrument (as NSynth's own splits),
// Magenta's random crops (6144 samples of a 4 s note) in a seeded order, and evaluation on centre
// crops. The sampler's whole state is three numbers, saved in every checkpoint, so a resumed run
// sees exactly the batches the uninterrupted run would have.
import { matches, type NoteFilter, type NoteSource } from '../dataset/nsynth.js';
import { muLawQuantizeArray } from '../ops/mu-law.js';
import { Rng } from '../util/rng.js';

export interface Batch {
  /** [B, length] */
  audio: Float32Array;
  /** MIDI pitch per item. */
  pitch: Uint32Array;
}

export interface SamplerState {
  epoch: number;
  position: number;
  rng: number;
}

/** FNV-1a of a string: a stable hash for splitting by instrument. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Indices of the notes that pass the filter, split into train and eval by instrument: the
 * instruments with the smallest hashes (a fraction `evalFraction`, at least one when there are
 * two or more) are held out. With a single instrument both splits are the same notes.
 */
export function splitNotes(
  source: NoteSource,
  filter: NoteFilter,
  evalFraction: number,
): { train: number[]; evaluation: number[]; sharedSplit: boolean } {
  const kept = source.notes.map((n, i) => ({ n, i })).filter(({ n }) => matches(n, filter));
  if (kept.length === 0)
    throw new Error(`${source.where}: no notes pass the filters (${source.notes.length} notes before filtering)`);
  const instruments = [...new Set(kept.map(({ n }) => n.instrument))].sort(
    (a, b) => hash(a) - hash(b) || (a < b ? -1 : 1),
  );
  if (instruments.length < 2 || evalFraction <= 0) {
    const all = kept.map(({ i }) => i);
    return { train: all, evaluation: evalFraction <= 0 ? [] : all, sharedSplit: evalFraction > 0 };
  }
  const nEval = Math.min(instruments.length - 1, Math.max(1, Math.round(evalFraction * instruments.length)));
  const held = new Set(instruments.slice(0, nEval));
  return {
    train: kept.filter(({ n }) => !held.has(n.instrument)).map(({ i }) => i),
    evaluation: kept.filter(({ n }) => held.has(n.instrument)).map(({ i }) => i),
    sharedSplit: false,
  };
}

/** Fits audio to `length` samples: a crop at `offset`, zero-padded past the end of the note. */
export function crop(audio: Float32Array, offset: number, length: number, out: Float32Array, at: number): void {
  const part = audio.subarray(offset, Math.min(audio.length, offset + length));
  out.set(part, at);
  out.fill(0, at + part.length, at + length);
}

/** Decoded notes kept in memory, least recently used dropped first. */
/**
 * Reads every listed note once, before step 1, so that a damaged or empty WAV (or record) stops the
 * run at once with its name instead of at the step that first draws it.
 */
export function checkNotesReadable(source: NoteSource, notes: number[]): void {
  for (const i of notes) {
    const a = source.audio(i); // errors name the file (or the record)
    if (a.length === 0) throw new Error(`${source.where}: note "${source.notes[i].noteStr}" has no samples`);
  }
}

class AudioCache {
  private readonly map = new Map<number, Float32Array>();
  constructor(
    private readonly source: NoteSource,
    private readonly capacity: number,
  ) {}
  get(i: number): Float32Array {
    let a = this.map.get(i);
    if (a) {
      this.map.delete(i);
    } else {
      a = this.source.audio(i);
      if (this.map.size >= this.capacity) this.map.delete(this.map.keys().next().value as number);
    }
    this.map.set(i, a);
    return a;
  }
}

/**
 * Draws of a crop's offset before a quiet note's quietest crop is accepted anyway: enough that a note
 * with a few sounding seconds is almost always cropped where it sounds (a quarter of its crops quiet:
 * 0.25^16), few enough that an all-but-silent note costs only microseconds.
 */
export const LOUD_CROP_TRIES = 16;

/** Root mean square of `length` samples from `offset`; samples past the end count as zeros. */
export function cropRms(audio: Float32Array, offset: number, length: number): number {
  const end = Math.min(audio.length, offset + length);
  let sum = 0;
  for (let i = offset; i < end; i++) sum += audio[i] * audio[i];
  return Math.sqrt(sum / length);
}

export class CropSampler {
  private order: number[] = [];
  private readonly cache: AudioCache;
  private rng: Rng;
  private epoch: number;
  private position: number;

  constructor(
    private readonly source: NoteSource,
    private readonly notes: number[],
    readonly length: number,
    private readonly seed: number,
    state?: SamplerState,
    /**
     * Crops quieter than this RMS are drawn again (up to LOUD_CROP_TRIES offsets in the same note,
     * keeping the loudest): 0 takes Magenta's uniform crops. A third of a random crop of an NSynth
     * note is below 0.01 (-40 dBFS: release tails), which a short training run can spend on sound.
     */
    private readonly minRms = 0,
    /**
     * Probability that a crop starts at its note's first sample instead of a random offset: the
     * attack from silence, which every generation and reconstruction starts with and a uniform crop
     * of a 4 s note covers only one time in ten. 0: uniform crops (Magenta's); no draw is spent then,
     * so runs without it keep their trajectory.
     */
    private readonly onsetCrops = 0,
  ) {
    if (notes.length === 0) throw new Error(`${source.where}: no training notes`);
    this.cache = new AudioCache(source, 256);
    this.epoch = state?.epoch ?? 0;
    this.position = state?.position ?? 0;
    this.rng = state ? Rng.restore(state.rng) : new Rng(seed ^ 0x5bd1e995);
    this.shuffle();
  }

  /** This epoch's order: a Fisher-Yates shuffle seeded by (seed, epoch), so it is never stored. */
  private shuffle(): void {
    const r = new Rng((this.seed * 1000003 + this.epoch * 7919) >>> 0);
    this.order = [...this.notes];
    for (let i = this.order.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
    }
  }

  /** B random crops, concatenated [B, length]. */
  next(B: number): Float32Array {
    return this.nextBatch(B).audio;
  }

  /** B random crops [B, length] and the notes' MIDI pitches. */
  nextBatch(B: number): Batch {
    const out = new Float32Array(B * this.length);
    const pitch = new Uint32Array(B);
    for (let b = 0; b < B; b++) {
      if (this.position >= this.order.length) {
        this.epoch++;
        this.position = 0;
        this.shuffle();
      }
      const note = this.order[this.position++];
      pitch[b] = this.source.notes[note].pitch;
      const audio = this.cache.get(note);
      crop(audio, this.offset(audio), this.length, out, b * this.length);
    }
    return { audio: out, pitch };
  }

  private offset(audio: Float32Array): number {
    if (this.onsetCrops > 0 && this.rng.next() < this.onsetCrops) return 0;
    const span = Math.max(0, audio.length - this.length) + 1;
    let offset = this.rng.int(span);
    if (this.minRms <= 0 || span === 1) return offset;
    let loudest = cropRms(audio, offset, this.length);
    for (let k = 1; k < LOUD_CROP_TRIES && loudest < this.minRms; k++) {
      const next = this.rng.int(span);
      const rms = cropRms(audio, next, this.length);
      if (rms > loudest) [offset, loudest] = [next, rms];
    }
    return offset;
  }

  state(): SamplerState {
    return { epoch: this.epoch, position: this.position, rng: this.rng.save() };
  }
}

/** Fixed evaluation batches: centre crops (Magenta's eval crop) of the held-out notes, in order. */
export function evalBatches(
  source: NoteSource,
  notes: number[],
  B: number,
  length: number,
  maxBatches: number,
): Batch[] {
  const out: Batch[] = [];
  // Notes evenly spaced over the list (the source's order: examples.json's, which the NSynth
  // release keeps by instrument, then pitch), so a few batches still span the instruments.
  const wanted = Math.min(notes.length, maxBatches * B);
  for (let k = 0; k < maxBatches && k * B < notes.length; k++) {
    const batch = { audio: new Float32Array(B * length), pitch: new Uint32Array(B) };
    for (let b = 0; b < B; b++) {
      const i = k * B + b;
      const note = notes[i < wanted ? Math.floor((i * notes.length) / wanted) : i % notes.length];
      const audio = source.audio(note);
      batch.pitch[b] = source.notes[note].pitch;
      crop(audio, Math.max(0, Math.floor((audio.length - length) / 2)), length, batch.audio, b * length);
    }
    out.push(batch);
  }
  return out;
}

/**
 * The decoder's teacher-forced input with noise (input-noise training): each sample's mu-law class
 * moved by a rounded Gaussian of `sigma` classes, clamped to the 256 classes, scaled as the
 * quantiser scales (class / 128 - 1). In generation the decoder reads its own draws, which stray from
 * any recording by several classes; trained only on clean inputs it learns to copy the waveform from
 * its recent past, and in generation that past is its own noise. The draw is seeded by (seed, step),
 * so a resumed run adds the same noise.
 */
export function noisyDecoderInput(audio: Float32Array, sigma: number, seed: number, step: number): Float32Array {
  const { classes } = muLawQuantizeArray(audio);
  const rng = new Rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca77)) >>> 0);
  const out = new Float32Array(audio.length);
  for (let i = 0; i < audio.length; i++) {
    const c = Math.min(255, Math.max(0, classes[i] + Math.round(sigma * rng.normal())));
    out[i] = (c - 128) / 128;
  }
  return out;
}

/**
 * Embedding dropout for step `step`: which of a batch's `batch` items train without their embedding
 * (each with probability `probability`, from its own stream of (seed, step), so a resumed run draws
 * the same). Those items' decoder sees zeros in place of the embedding and only the pitch one-hot,
 * so it must learn what a pitch sounds like from the pitch alone; a model that follows its pitch
 * input keeps a note's pitch in generation where the embedding alone lets it drift.
 */
export function embeddingDropoutOf(batch: number, probability: number, seed: number, step: number): boolean[] {
  const rng = new Rng((Math.imul(seed ^ 0x2545f491, 0x9e3779b1) ^ Math.imul(step + 1, 0x632be5ab)) >>> 0);
  return Array.from({ length: batch }, () => rng.next() < probability);
}

/**
 * Parallel scheduled sampling (Duckworth et al. 2019): the decoder's teacher-forced input with each
 * sample, with probability `probability`, replaced by a draw from the model's own prediction of it
 * (`logits` [n * classes]: the forward pass on `base`, softmax at temperature 1). A pass teacher-forced
 * on the clean past cannot show the decoder the errors it makes in generation; noise of a fixed shape
 * (`noisyDecoderInput`) shows it someone else's. These draws are its own, one step deep: wide where it
 * is unsure (attacks, noise), close where it is sure. `base` and the result are scaled mu-law values
 * (class / 128 - 1); the draws are seeded by (seed, step), so a resumed run draws the same.
 */
export function scheduledSamplingInput(
  logits: Float32Array,
  base: Float32Array,
  probability: number,
  seed: number,
  step: number,
  classes = 256,
): Float32Array {
  const n = base.length;
  if (logits.length !== n * classes)
    throw new Error(`scheduled sampling: ${logits.length} logits for ${n} samples of ${classes} classes`);
  // Its own stream, apart from the input noise's (which the same (seed, step) seeds).
  const rng = new Rng((Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2f) ^ Math.imul(step + 1, 0x165667b1)) >>> 0);
  const out = Float32Array.from(base);
  const half = classes / 2;
  const weights = new Float64Array(classes); // one row's exp(logit - max), computed once
  for (let i = 0; i < n; i++) {
    if (rng.next() >= probability) continue;
    const row = i * classes;
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[row + k]);
    let total = 0;
    for (let k = 0; k < classes; k++) {
      weights[k] = Math.exp(logits[row + k] - max);
      total += weights[k];
    }
    // Inverse CDF: the first class whose running sum passes u * total.
    let u = rng.next() * total;
    let drawn = classes - 1;
    for (let k = 0; k < classes; k++) {
      u -= weights[k];
      if (u < 0) {
        drawn = k;
        break;
      }
    }
    out[i] = (drawn - half) / half;
  }
  return out;
}
