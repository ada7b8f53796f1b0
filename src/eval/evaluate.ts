// How well a model reconstructs notes: teacher-forced bits per sample, and for the generated
// reconstruction (encode, then sample) its f0 error against the original and its log-spectral
// distance; for pitch-conditioned models, whether the pitch input is used at all (the bits it saves).
// `nsynth eval` prints these per note and summarised.
import { cents, type F0Track, medianF0, yinF0 } from '../dsp/f0.js';
import { bitsPerSample } from '../dsp/nll.js';
import { logSpectralDistance } from '../dsp/spectral.js';
import type { NSynthModel } from '../nsynth.js';
import { muLawDecodeReference, muLawQuantizeArray } from '../ops/mu-law.js';
import { octaveAway } from '../model/inputs.js';
import { Rng } from '../util/rng.js';

export interface EvalNote {
  name: string;
  audio: Float32Array;
  /** MIDI pitch (the condition of pitch-conditioned models). */
  pitch: number;
}

export interface EvalOptions {
  /** Evaluate the first S seconds of every note (default: the whole note, trimmed to whole frames). */
  seconds?: number;
  /** Voices generated together (default 8). */
  batch?: number;
  seed?: number;
  /** Softmax temperature of the sampling (default 1, Magenta's plain sampling; 0 = argmax). */
  temperature?: number;
  onNote?: (done: number, total: number) => void;
}

export interface EvalRow {
  note: string;
  pitch: number;
  samples: number;
  bitsPerSample: number;
  /** The original's median f0 (Hz), 0 where it has no clear one. */
  originalF0: number;
  /** Cents between the median f0s of the reconstruction and the original; null where either has none. */
  f0ErrorCents: number | null;
  /**
   * How pitched the reconstruction is, whether or not it passes the f0 threshold: the median over
   * frames of YIN's clarity (1 - the lowest normalised difference; near 1 periodic, ~0.15 for noise:
   * 0.14 for mu-law noise on nsynth-subset/valid). It rises before f0ErrorCents can be measured, so
   * it shows a model's progress toward keeping pitch.
   */
  clarity: number;
  /** The same for the original note. */
  originalClarity: number;
  logSpectralDistance: number;
  /**
   * Pitch-conditioned models: teacher-forced bits per sample with the pitch input an octave away
   * (up, or down above MIDI 115) minus with the true pitch. Near 0: the model ignores its pitch
   * input (it predicts from the past samples alone); clearly above 0: it uses it. Null otherwise.
   */
  pitchUseBits: number | null;
}

export { octaveAway };

export interface EvalSummary {
  notes: number;
  /** Notes whose original has a clear f0. */
  clearF0: number;
  /** Of those, the fraction whose reconstruction has an f0 within 50 cents of the original's. */
  within50Cents: number;
  medianLogSpectralDistance: number;
  /** Median of the rows' reconstruction clarity (the originals': medianOriginalClarity). */
  medianClarity: number;
  medianOriginalClarity: number;
  meanBitsPerSample: number;
  /** Mean of the rows' pitchUseBits (null for models without a pitch input, and for noise). */
  meanPitchUseBits: number | null;
}

/** Median over frames of a track's clarity (0 for a note shorter than one analysis window). */
function medianClarity(t: F0Track): number {
  return t.clarity.length ? median(Array.from(t.clarity)) : 0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

export async function evaluateNotes(
  model: NSynthModel,
  notes: EvalNote[],
  o: EvalOptions = {},
): Promise<{ rows: EvalRow[]; summary: EvalSummary }> {
  if (notes.length === 0) throw new Error('evaluate: no notes');
  const c = model.config;
  const limit = o.seconds === undefined ? Infinity : Math.round(o.seconds * c.sampleRate);
  const clipped = notes.map((n) => {
    const T = Math.floor(Math.min(n.audio.length, limit) / c.hop) * c.hop;
    if (T === 0) throw new Error(`${n.name}: shorter than one ${c.hop}-sample frame`);
    return n.audio.subarray(0, T);
  });
  const batch = o.batch ?? 8;
  const rows: EvalRow[] = [];
  for (let i0 = 0; i0 < notes.length; i0 += batch) {
    const group = clipped.slice(i0, i0 + batch);
    const pitches = notes.slice(i0, i0 + batch).map((n) => n.pitch);
    const pitch = c.pitchConditioning ? pitches : undefined;
    const embeddings = await Promise.all(group.map((a) => model.encode(a)));
    const recon = await model.generate(embeddings, { seed: o.seed ?? 0, pitch, temperature: o.temperature ?? 1 });
    for (let j = 0; j < group.length; j++) {
      const a = group[j];
      const logits = await model.teacherForcedLogits(a, embeddings[j], { pitch: pitch?.[j] });
      const classes = muLawQuantizeArray(a).classes;
      const bits = bitsPerSample(logits.data, classes, c.numClasses);
      let pitchUseBits: number | null = null;
      if (pitch) {
        const other = await model.teacherForcedLogits(a, embeddings[j], { pitch: octaveAway(pitch[j]) });
        pitchUseBits = bitsPerSample(other.data, classes, c.numClasses) - bits;
      }
      const track = yinF0(a);
      const trackRecon = yinF0(recon[j]);
      const f0 = medianF0(track);
      const f0Recon = medianF0(trackRecon);
      rows.push({
        note: notes[i0 + j].name,
        pitch: pitches[j],
        samples: a.length,
        bitsPerSample: bits,
        originalF0: f0,
        f0ErrorCents: f0 > 0 && f0Recon > 0 ? cents(f0Recon, f0) : null,
        clarity: medianClarity(trackRecon),
        originalClarity: medianClarity(track),
        logSpectralDistance: logSpectralDistance(recon[j], a),
        pitchUseBits,
      });
      o.onNote?.(rows.length, notes.length);
    }
  }
  return { rows, summary: summarise(rows) };
}

function summarise(rows: EvalRow[]): EvalSummary {
  const clear = rows.filter((r) => r.originalF0 > 0);
  return {
    notes: rows.length,
    clearF0: clear.length,
    within50Cents: clear.length
      ? clear.filter((r) => r.f0ErrorCents !== null && Math.abs(r.f0ErrorCents) <= 50).length / clear.length
      : 0,
    medianLogSpectralDistance: median(rows.map((r) => r.logSpectralDistance)),
    medianClarity: median(rows.map((r) => r.clarity)),
    medianOriginalClarity: median(rows.map((r) => r.originalClarity)),
    meanBitsPerSample: rows.reduce((s, r) => s + r.bitsPerSample, 0) / rows.length,
    meanPitchUseBits: rows.every((r) => r.pitchUseBits !== null)
      ? rows.reduce((s, r) => s + (r.pitchUseBits as number), 0) / rows.length
      : null,
  };
}

/**
 * The floor every model must beat: plain mu-law noise (uniformly random classes, decoded) as the
 * "reconstruction", and the uniform distribution's log2(256) = 8 bits per sample as its NLL.
 */
export function evaluateNoise(
  notes: EvalNote[],
  o: { seconds?: number; seed?: number; sampleRate?: number; hop?: number; numClasses?: number } = {},
): { rows: EvalRow[]; summary: EvalSummary } {
  if (notes.length === 0) throw new Error('evaluate: no notes');
  const classes = o.numClasses ?? 256;
  const limit = o.seconds === undefined ? Infinity : Math.round(o.seconds * (o.sampleRate ?? 16000));
  const rng = new Rng(o.seed ?? 0);
  const hop = o.hop ?? 512;
  const rows = notes.map((n): EvalRow => {
    // Whole frames, as evaluateNotes measures, so the floor covers the same samples as a model.
    const T = Math.floor(Math.min(n.audio.length, limit) / hop) * hop;
    if (T === 0) throw new Error(`${n.name}: shorter than one ${hop}-sample frame`);
    const a = n.audio.subarray(0, T);
    const noise = muLawDecodeReference(Uint32Array.from(a, () => rng.nextU32() % classes));
    const track = yinF0(a);
    const trackNoise = yinF0(noise);
    const f0 = medianF0(track);
    const f0Noise = medianF0(trackNoise);
    return {
      note: n.name,
      pitch: n.pitch,
      samples: a.length,
      bitsPerSample: Math.log2(classes),
      originalF0: f0,
      f0ErrorCents: f0 > 0 && f0Noise > 0 ? cents(f0Noise, f0) : null,
      clarity: medianClarity(trackNoise),
      originalClarity: medianClarity(track),
      logSpectralDistance: logSpectralDistance(noise, a),
      pitchUseBits: null,
    };
  });
  return { rows, summary: summarise(rows) };
}
