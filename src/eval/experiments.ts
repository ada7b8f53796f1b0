// The paper's three experiments over a set of notes, for any number of models ("subjects"):
// reconstruction (encode, decode, compare with the original), timbre interpolation (the mix at 0.5
// of two notes' encodings, compared with its parents and with the plain waveform mix) and pitch
// (re-decoding with the pitch input shifted, for pitch-conditioned models). Every subject answers
// the same small interface, so the WaveNet, plain noise and the spectrogram baseline sit side by side.
import { cents, medianF0, yinF0 } from '../dsp/f0.js';
import { bitsPerSample } from '../dsp/nll.js';
import { logSpectralDistance, multiScaleSpectralDistance } from '../dsp/spectral.js';
import { interpolateEmbeddings, mixWaveforms } from '../model/interpolate.js';
import type { BaselineModel } from '../autoencoder/baseline.js';
import type { NSynthModel } from '../nsynth.js';
import { muLawDecodeReference, muLawQuantizeArray } from '../ops/mu-law.js';
import { Rng } from '../util/rng.js';
import type { EvalNote } from './evaluate.js';

/** A model under test, as the experiments see it. */
export interface Subject {
  /** Shown in the report. */
  label: string;
  /** Takes a pitch input (the pitch experiment applies). */
  pitchConditioned: boolean;
  /** Every note encoded and decoded (at `pitches`, one per note, where the subject takes a pitch). */
  reconstruct(notes: Float32Array[], pitches: number[]): Promise<Float32Array[]>;
  /** Per pair, the mix (1 - mix) A + mix B of the two notes' encodings, decoded at the pair's pitch. */
  interpolate(pairs: [Float32Array, Float32Array][], mix: number, pitches: number[]): Promise<Float32Array[]>;
  /** Teacher-forced bits per sample of a note (WaveNet models only). */
  bitsPerSample?(note: Float32Array, pitch: number): Promise<number>;
}

/** A WaveNet autoencoder as a subject; voices are generated `batch` at a time. */
export function wavenetSubject(
  model: NSynthModel,
  label: string,
  o: { batch?: number; seed?: number; temperature?: number } = {},
): Subject {
  const c = model.config;
  const opts = (pitches: number[]) => ({
    seed: o.seed ?? 0,
    temperature: o.temperature ?? 1,
    batch: o.batch ?? 8,
    pitch: c.pitchConditioning ? pitches : undefined,
  });
  return {
    label,
    pitchConditioned: c.pitchConditioning,
    async reconstruct(notes, pitches) {
      const z = await Promise.all(notes.map((n) => model.encode(n)));
      return await model.generate(z, opts(pitches));
    },
    async interpolate(pairs, mix, pitches) {
      const z = [];
      for (const [a, b] of pairs) z.push(interpolateEmbeddings(await model.encode(a), await model.encode(b), mix));
      return await model.generate(z, opts(pitches));
    },
    async bitsPerSample(note, pitch) {
      const logits = await model.teacherForcedLogits(note, null, { pitch: c.pitchConditioning ? pitch : undefined });
      return bitsPerSample(logits.data, muLawQuantizeArray(note).classes, c.numClasses);
    },
  };
}

/**
 * The spectrogram baseline as a subject: notes through its spectrogram, code and decoder, audio
 * back by Griffin-Lim (`iterations`, 1,000 as the paper by default) at each original's peak level
 * (the log magnitudes keep only relative levels). Always pitch-conditioned (its learned embedding).
 */
export function baselineSubject(
  model: BaselineModel,
  label: string,
  o: { iterations?: number; seed?: number; batch?: number } = {},
): Subject {
  const peak = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const latent = model.config.latent;
  const batch = Math.min(o.batch ?? 8, model.maxBatch());
  const decode = async (codes: Float32Array, pitches: number[], lengths: number[], peaks: number[]) => {
    const out: Float32Array[] = [];
    for (let i = 0; i < pitches.length; i += batch) {
      const n = Math.min(batch, pitches.length - i);
      out.push(
        ...(await model.decodeAudio(codes.subarray(i * latent, (i + n) * latent), pitches.slice(i, i + n), {
          lengths: lengths.slice(i, i + n),
          peaks: peaks.slice(i, i + n),
          iterations: o.iterations,
          seed: (o.seed ?? 0) + i,
        })),
      );
    }
    return out;
  };
  const encode = async (notes: Float32Array[]) => {
    const codes = new Float32Array(notes.length * latent);
    for (let i = 0; i < notes.length; i += batch) codes.set(await model.encode(notes.slice(i, i + batch)), i * latent);
    return codes;
  };
  return {
    label,
    pitchConditioned: true,
    async reconstruct(notes, pitches) {
      return decode(
        await encode(notes),
        pitches,
        notes.map((n) => n.length),
        notes.map(peak),
      );
    },
    async interpolate(pairs, mix, pitches) {
      const a = await encode(pairs.map((p) => p[0]));
      const b = await encode(pairs.map((p) => p[1]));
      const mixed = Float32Array.from(a, (v, i) => (1 - mix) * v + mix * b[i]);
      return decode(
        mixed,
        pitches,
        pairs.map(([x, y]) => Math.min(x.length, y.length)),
        pairs.map(([x, y]) => (1 - mix) * peak(x) + mix * peak(y)),
      );
    },
  };
}

/** Plain mu-law noise (uniform classes, decoded): the floor every model must beat; 8 bits per sample. */
export function noiseSubject(seed = 0): Subject {
  const rng = new Rng(seed);
  const noise = (n: number) => muLawDecodeReference(Uint32Array.from({ length: n }, () => rng.nextU32() % 256));
  return {
    label: 'mu-law noise',
    pitchConditioned: false,
    reconstruct: async (notes) => notes.map((n) => noise(n.length)),
    interpolate: async (pairs) => pairs.map(([a, b]) => noise(Math.min(a.length, b.length))),
    bitsPerSample: async () => 8,
  };
}

export interface ExperimentOptions {
  /** The first S seconds of every note (default 4: NSynth's whole notes). */
  seconds?: number;
  /** Timbre pairs (default: half the notes). */
  pairs?: number;
  /** Pitch shifts in semitones for the pitch experiment (default -2 and +2, as Magenta's baseline eval). */
  pitchShifts?: number[];
  /** Notes and pairs whose audio is kept for pictures and listening (default 3). */
  keep?: number;
  onStage?: (subject: string, stage: string) => void;
}

export interface ReconstructionRow {
  note: string;
  pitch: number;
  originalF0: number;
  f0ErrorCents: number | null;
  logSpectralDistance: number;
  multiScaleSpectralDistance: number;
  bitsPerSample: number | null;
}

export interface InterpolationRow {
  a: string;
  b: string;
  /** The morph's f0 is within 50 cents of one parent's (null where neither parent has a clear f0). */
  keepsAParentsPitch: boolean | null;
  /** Log-spectral distance of the morph to the nearer parent, and to the plain waveform mix. */
  lsdToNearerParent: number;
  lsdToWaveformMix: number;
}

export interface PitchRow {
  note: string;
  shift: number;
  /** The original's median f0 (Hz), 0 where it has no clear one (the row is then not judged). */
  originalF0: number;
  /** Cents between the result's f0 and the original's shifted by `shift` semitones (null: no clear f0). */
  f0ErrorCents: number | null;
}

export interface SubjectResult {
  label: string;
  reconstruction: { rows: ReconstructionRow[]; seconds: number; summary: ReconstructionSummary };
  interpolation: { rows: InterpolationRow[]; seconds: number; summary: InterpolationSummary };
  pitch: { rows: PitchRow[]; seconds: number; summary: { within50Cents: number; clear: number } } | null;
  /** Audio kept for pictures: reconstructions of the first notes, morphs of the first pairs, pitch shifts of the first note. */
  kept: { reconstructions: Float32Array[]; morphs: Float32Array[]; shifted: { shift: number; audio: Float32Array }[] };
}

export interface ReconstructionSummary {
  notes: number;
  clearF0: number;
  within50Cents: number;
  medianLogSpectralDistance: number;
  medianMultiScaleSpectralDistance: number;
  meanBitsPerSample: number | null;
}

export interface InterpolationSummary {
  pairs: number;
  /** Pairs where a parent has a clear f0 (the ones `keepsPitch` is a fraction of). */
  judged: number;
  /** Of the pairs where a parent has a clear f0, the fraction of morphs within 50 cents of a parent's f0. */
  keepsPitch: number;
  medianLsdToNearerParent: number;
  medianLsdToWaveformMix: number;
}

export interface ExperimentResults {
  notes: EvalNote[];
  pairs: [number, number][];
  seconds: number;
  subjects: SubjectResult[];
}

function median(xs: number[]): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

const f0Of = (a: Float32Array) => medianF0(yinF0(a));

/**
 * Timbre pairs: each note (in order) with the unused note of another instrument nearest in pitch,
 * so a morph joins two timbres rather than two pitches.
 */
export function timbrePairs(notes: EvalNote[], count: number): [number, number][] {
  const instrument = (n: EvalNote) => n.name.replace(/-\d{3}-\d{3}$/, '');
  const used = new Set<number>();
  const pairs: [number, number][] = [];
  for (let i = 0; i < notes.length && pairs.length < count; i++) {
    if (used.has(i)) continue;
    let best = -1;
    for (let j = 0; j < notes.length; j++) {
      if (j === i || used.has(j) || instrument(notes[j]) === instrument(notes[i])) continue;
      if (best < 0 || Math.abs(notes[j].pitch - notes[i].pitch) < Math.abs(notes[best].pitch - notes[i].pitch))
        best = j;
    }
    if (best < 0) continue;
    used.add(i).add(best);
    pairs.push([i, best]);
  }
  return pairs;
}

export async function runExperiments(
  subjects: Subject[],
  notes: EvalNote[],
  o: ExperimentOptions = {},
): Promise<ExperimentResults> {
  if (!notes.length) throw new Error('experiments: no notes');
  const seconds = o.seconds ?? 4;
  // Whole 512-sample frames (the WaveNet's hop), the same samples for every subject.
  const length = Math.floor((seconds * 16000) / 512) * 512;
  if (length === 0) throw new Error(`experiments: ${seconds} s is shorter than one 512-sample frame`);
  const audio = notes.map((n) => {
    const a = new Float32Array(length);
    a.set(n.audio.subarray(0, length));
    return a;
  });
  const pitches = notes.map((n) => n.pitch);
  const originalF0 = audio.map(f0Of);
  const pairs = timbrePairs(notes, o.pairs ?? Math.floor(notes.length / 2));
  const keep = o.keep ?? 3;
  const shifts = o.pitchShifts ?? [-2, 2];
  const results: SubjectResult[] = [];
  for (const s of subjects) {
    o.onStage?.(s.label, 'reconstruction');
    let t0 = performance.now();
    const recon = await s.reconstruct(audio, pitches);
    const reconSeconds = (performance.now() - t0) / 1000;
    const rows: ReconstructionRow[] = [];
    for (let i = 0; i < notes.length; i++) {
      const f = f0Of(recon[i]);
      rows.push({
        note: notes[i].name,
        pitch: pitches[i],
        originalF0: originalF0[i],
        f0ErrorCents: f > 0 && originalF0[i] > 0 ? cents(f, originalF0[i]) : null,
        logSpectralDistance: logSpectralDistance(recon[i], audio[i]),
        multiScaleSpectralDistance: multiScaleSpectralDistance(recon[i], audio[i]),
        bitsPerSample: s.bitsPerSample ? await s.bitsPerSample(audio[i], pitches[i]) : null,
      });
    }
    o.onStage?.(s.label, 'timbre interpolation');
    t0 = performance.now();
    const morphs = pairs.length
      ? await s.interpolate(
          pairs.map(([i, j]) => [audio[i], audio[j]]),
          0.5,
          pairs.map(([i]) => pitches[i]),
        )
      : [];
    const interpSeconds = (performance.now() - t0) / 1000;
    const interpRows = pairs.map(([i, j], p): InterpolationRow => {
      const f = f0Of(morphs[p]);
      const parents = [originalF0[i], originalF0[j]].filter((x) => x > 0);
      return {
        a: notes[i].name,
        b: notes[j].name,
        keepsAParentsPitch: parents.length ? f > 0 && parents.some((x) => Math.abs(cents(f, x)) <= 50) : null,
        lsdToNearerParent: Math.min(logSpectralDistance(morphs[p], audio[i]), logSpectralDistance(morphs[p], audio[j])),
        lsdToWaveformMix: logSpectralDistance(morphs[p], mixWaveforms(audio[i], audio[j], 0.5)),
      };
    });
    let pitch: SubjectResult['pitch'] = null;
    const shifted: { shift: number; audio: Float32Array }[] = [];
    if (s.pitchConditioned) {
      o.onStage?.(s.label, 'pitch');
      t0 = performance.now();
      const pitchRows: PitchRow[] = [];
      for (const shift of shifts) {
        const moved = pitches.map((p) => Math.min(127, Math.max(0, p + shift)));
        const out = await s.reconstruct(audio, moved);
        if (keep > 0) shifted.push({ shift, audio: out[0] });
        out.forEach((a, i) => {
          const f = f0Of(a);
          const target = originalF0[i] * 2 ** ((moved[i] - pitches[i]) / 12);
          pitchRows.push({
            note: notes[i].name,
            shift,
            originalF0: originalF0[i],
            f0ErrorCents: f > 0 && originalF0[i] > 0 ? cents(f, target) : null,
          });
        });
      }
      // Judged where the original has a clear f0; an output without one counts as a miss.
      const clear = pitchRows.filter((r) => r.originalF0 > 0);
      pitch = {
        rows: pitchRows,
        seconds: (performance.now() - t0) / 1000,
        summary: {
          clear: clear.length,
          within50Cents: clear.length
            ? clear.filter((r) => r.f0ErrorCents !== null && Math.abs(r.f0ErrorCents) <= 50).length / clear.length
            : 0,
        },
      };
    }
    const clearRows = rows.filter((r) => r.originalF0 > 0);
    const judged = interpRows.filter((r) => r.keepsAParentsPitch !== null);
    results.push({
      label: s.label,
      reconstruction: {
        rows,
        seconds: reconSeconds,
        summary: {
          notes: rows.length,
          clearF0: clearRows.length,
          within50Cents: clearRows.length
            ? clearRows.filter((r) => r.f0ErrorCents !== null && Math.abs(r.f0ErrorCents) <= 50).length /
              clearRows.length
            : 0,
          medianLogSpectralDistance: median(rows.map((r) => r.logSpectralDistance)),
          medianMultiScaleSpectralDistance: median(rows.map((r) => r.multiScaleSpectralDistance)),
          meanBitsPerSample: s.bitsPerSample
            ? rows.reduce((t, r) => t + (r.bitsPerSample ?? 0), 0) / rows.length
            : null,
        },
      },
      interpolation: {
        rows: interpRows,
        seconds: interpSeconds,
        summary: {
          pairs: interpRows.length,
          judged: judged.length,
          keepsPitch: judged.length ? judged.filter((r) => r.keepsAParentsPitch).length / judged.length : 0,
          medianLsdToNearerParent: median(interpRows.map((r) => r.lsdToNearerParent)),
          medianLsdToWaveformMix: median(interpRows.map((r) => r.lsdToWaveformMix)),
        },
      },
      pitch,
      kept: { reconstructions: recon.slice(0, keep), morphs: morphs.slice(0, keep), shifted },
    });
  }
  return {
    notes: notes.map((n, i) => ({ ...n, audio: audio[i] })),
    pairs,
    seconds: length / 16000,
    subjects: results,
  };
}
