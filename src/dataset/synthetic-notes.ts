// Synthetic NSynth-like notes, written in the release's JSON/WAV layout (examples.json +
// audio/<note_str>.wav, 16-bit PCM, 16 kHz, 4 s: held 3 s, released over the last second). They are
// the data for tests and for first models when no dataset is present. Five kinds of sound, each
// labelled with the NSynth family it most resembles (source "synthetic"):
//   organ     odd harmonics, flat sustain              keyboard  harmonic stack, 1/k^2 spectrum, slow decay
//   mallet    inharmonic partials (free-bar ratios), fast decay
//   guitar    plucked string (Karplus-Strong)          flute     breath noise around the pitch + weak harmonics
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../util/rng.js';
import { encodeWav } from '../formats/wav.js';
import { writeFileAtomic } from '../formats/atomic-write.js';
import { FAMILIES, QUALITIES, SOURCES, type NoteMeta } from './nsynth.js';

export const SYNTH_KINDS = ['organ', 'keyboard', 'mallet', 'guitar', 'flute'] as const;
export type SynthKind = (typeof SYNTH_KINDS)[number];

const SR = 16000;
const VELOCITIES = [25, 50, 75, 100, 127];

function hz(pitch: number): number {
  return 440 * 2 ** ((pitch - 69) / 12);
}

/** Held for 3/4 of the note, then a linear release to silence; a 5 ms attack avoids a click. */
function envelope(i: number, n: number): number {
  const attack = Math.min(1, i / (0.005 * SR));
  const hold = Math.floor(n * 0.75);
  return attack * (i < hold ? 1 : Math.max(0, 1 - (i - hold) / (n - hold)));
}

function additive(
  out: Float32Array,
  partials: { ratio: number; amp: number; decay: number }[],
  f0: number,
  rng: Rng,
): void {
  for (const p of partials) {
    const f = f0 * p.ratio;
    if (f >= SR / 2) continue;
    const phase = rng.uniform(0, 2 * Math.PI);
    const w = (2 * Math.PI * f) / SR;
    for (let i = 0; i < out.length; i++) out[i] += p.amp * Math.exp(-p.decay * (i / SR)) * Math.sin(w * i + phase);
  }
}

/** One note of `kind` at MIDI `pitch`, peak amplitude set by `velocity`. */
export function synthesizeNote(
  kind: SynthKind,
  pitch: number,
  velocity: number,
  samples: number,
  seed: number,
): Float32Array {
  const rng = new Rng(seed);
  const f0 = hz(pitch);
  const out = new Float32Array(samples);
  if (kind === 'organ') {
    additive(
      out,
      [1, 3, 5, 7, 9, 11].map((k) => ({ ratio: k, amp: 1 / k, decay: 0 })),
      f0,
      rng,
    );
  } else if (kind === 'keyboard') {
    additive(
      out,
      Array.from({ length: 12 }, (_, j) => ({ ratio: j + 1, amp: 1 / (j + 1) ** 2, decay: 0.8 + 0.4 * j })),
      f0,
      rng,
    );
  } else if (kind === 'mallet') {
    additive(
      out,
      [
        [1, 1],
        [2.756, 0.5],
        [5.404, 0.25],
        [8.933, 0.12],
      ].map(([ratio, amp], j) => ({ ratio, amp, decay: 3 + 4 * j })),
      f0,
      rng,
    );
  } else if (kind === 'guitar') {
    // Karplus-Strong: a noise burst circulating in a delay line of one period, low-passed each pass.
    const period = Math.max(2, Math.round(SR / f0));
    const line = Float32Array.from({ length: period }, () => rng.uniform(-1, 1));
    for (let i = 0; i < samples; i++) {
      const j = i % period;
      const v = line[j];
      line[j] = 0.996 * 0.5 * (v + line[(j + 1) % period]);
      out[i] = v;
    }
  } else {
    additive(
      out,
      [1, 2, 3].map((k) => ({ ratio: k, amp: 0.3 / k, decay: 0 })),
      f0,
      rng,
    );
    // Breath: noise through a two-pole resonator at the pitch.
    const r = 0.995;
    const c = 2 * r * Math.cos((2 * Math.PI * f0) / SR);
    let y1 = 0;
    let y2 = 0;
    for (let i = 0; i < samples; i++) {
      const y = rng.uniform(-1, 1) * 0.02 + c * y1 - r * r * y2;
      y2 = y1;
      y1 = y;
      out[i] += y;
    }
  }
  let peak = 0;
  for (let i = 0; i < samples; i++) {
    out[i] *= envelope(i, samples);
    peak = Math.max(peak, Math.abs(out[i]));
  }
  const gain = peak > 0 ? (0.9 * velocity) / 127 / peak : 0;
  for (let i = 0; i < samples; i++) out[i] *= gain;
  return out;
}

const FAMILY_OF: Record<SynthKind, string> = {
  organ: 'organ',
  keyboard: 'keyboard',
  mallet: 'mallet',
  guitar: 'guitar',
  flute: 'flute',
};
const QUALITY_OF: Record<SynthKind, string[]> = {
  organ: ['bright'],
  keyboard: ['dark'],
  mallet: ['percussive', 'fast_decay'],
  guitar: ['fast_decay'],
  flute: ['nonlinear_env'],
};

export interface SyntheticOptions {
  notes: number;
  seed: number;
  /** Samples per note (NSynth: 64000). */
  samples?: number;
  kinds?: readonly SynthKind[];
  pitchMin?: number;
  pitchMax?: number;
  /** Instruments per kind (each instrument plays many pitches, as in NSynth). */
  instrumentsPerKind?: number;
}

/** Writes `notes` synthetic notes to dir/examples.json + dir/audio/. Returns their labels. */
export function writeSyntheticDataset(dir: string, o: SyntheticOptions): NoteMeta[] {
  const samples = o.samples ?? 64000;
  const kinds = o.kinds ?? SYNTH_KINDS;
  const [lo, hi] = [o.pitchMin ?? 36, o.pitchMax ?? 84];
  if (!(lo >= 0 && hi <= 127 && lo <= hi)) throw new Error(`Synthetic notes: bad pitch range ${lo}..${hi}`);
  const perKind = o.instrumentsPerKind ?? 2;
  const rng = new Rng(o.seed);
  fs.mkdirSync(path.join(dir, 'audio'), { recursive: true });
  const examples: Record<string, unknown> = {};
  const metas: NoteMeta[] = [];
  const seen = new Set<string>();
  for (let k = 0; metas.length < o.notes; k++) {
    const kind = kinds[k % kinds.length];
    const inst = rng.int(perKind);
    const pitch = lo + rng.int(hi - lo + 1);
    const velocity = VELOCITIES[rng.int(VELOCITIES.length)];
    const family = FAMILY_OF[kind];
    const instrument = `${family}_synthetic_${String(inst).padStart(3, '0')}`;
    const noteStr = `${instrument}-${String(pitch).padStart(3, '0')}-${String(velocity).padStart(3, '0')}`;
    if (seen.has(noteStr)) {
      if (k > o.notes * 50)
        throw new Error(`Synthetic notes: cannot find ${o.notes} distinct notes in pitch range ${lo}..${hi}`);
      continue;
    }
    seen.add(noteStr);
    const audio = synthesizeNote(kind, pitch, velocity, samples, (o.seed * 7919 + metas.length) >>> 0);
    writeFileAtomic(path.join(dir, 'audio', `${noteStr}.wav`), encodeWav(audio));
    const qualities = QUALITIES.map((q) => (QUALITY_OF[kind].includes(q) ? 1 : 0));
    const meta: NoteMeta = {
      noteStr,
      pitch,
      velocity,
      family: FAMILIES.indexOf(family),
      source: SOURCES.indexOf('synthetic'),
      instrument,
      qualities,
    };
    metas.push(meta);
    examples[noteStr] = {
      note: metas.length - 1,
      note_str: noteStr,
      instrument: FAMILIES.indexOf(family) * 100 + inst,
      instrument_str: instrument,
      pitch,
      velocity,
      sample_rate: SR,
      qualities,
      qualities_str: QUALITIES.filter((_, i) => qualities[i]),
      instrument_family: meta.family,
      instrument_family_str: family,
      instrument_source: meta.source,
      instrument_source_str: 'synthetic',
    };
  }
  writeFileAtomic(path.join(dir, 'examples.json'), `${JSON.stringify(examples, null, 2)}\n`);
  return metas;
}
