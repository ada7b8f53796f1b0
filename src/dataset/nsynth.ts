// The NSynth release formats as note sources: the JSON/WAV layout (examples.json + audio/*.wav)
// and TFRecord files of tf.train.Example. Both list every note's labels up front (filters need
// them) and read a note's audio only when asked, so a 20 GB TFRecord is streamed, never loaded.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readWav16k } from '../formats/wav.js';
import { decodeExample, type Feature } from './tf-example.js';
import { TfRecordReader, type RecordRef } from './tfrecord.js';

export const FAMILIES = [
  'bass',
  'brass',
  'flute',
  'guitar',
  'keyboard',
  'mallet',
  'organ',
  'reed',
  'string',
  'synth_lead',
  'vocal',
];
export const SOURCES = ['acoustic', 'electronic', 'synthetic'];
export const QUALITIES = [
  'bright',
  'dark',
  'distortion',
  'fast_decay',
  'long_release',
  'multiphonic',
  'nonlinear_env',
  'percussive',
  'reverb',
  'tempo-synced',
];

export interface NoteMeta {
  noteStr: string;
  pitch: number;
  velocity: number;
  /** Index into FAMILIES. */
  family: number;
  /** Index into SOURCES. */
  source: number;
  instrument: string;
  qualities: number[];
}

export interface NoteSource {
  /** Where the notes come from (errors and logs name it). */
  readonly where: string;
  readonly notes: NoteMeta[];
  /** The note's audio at 16 kHz. */
  audio(index: number): Float32Array;
  close(): void;
}

export interface NoteFilter {
  families?: number[];
  sources?: number[];
  pitchMin?: number;
  pitchMax?: number;
  velocities?: number[];
}

export function matches(n: NoteMeta, f: NoteFilter): boolean {
  if (f.families && !f.families.includes(n.family)) return false;
  if (f.sources && !f.sources.includes(n.source)) return false;
  if (f.pitchMin !== undefined && n.pitch < f.pitchMin) return false;
  if (f.pitchMax !== undefined && n.pitch > f.pitchMax) return false;
  if (f.velocities && !f.velocities.includes(n.velocity)) return false;
  return true;
}

/** Names or indices ("guitar,mallet" or "3,5") to indices, with an error naming the bad entry. */
export function parseLabelList(text: string, vocabulary: string[], what: string): number[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const i = /^\d+$/.test(s) ? Number(s) : vocabulary.indexOf(s);
      if (i < 0 || i >= vocabulary.length) throw new Error(`Unknown ${what} "${s}" (known: ${vocabulary.join(', ')})`);
      return i;
    });
}

/**
 * A JSON value for an error message, not descended into: a corrupted file may nest a value thousands
 * of levels deep (JSON.stringify would overflow the stack) or hold an object that has no string form.
 */
function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' && v !== null ? 'an object' : String(JSON.stringify(v));
}

function int(v: unknown, where: string, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new Error(`${where}: field "${field}" is ${describe(v)}, expected an integer`);
  return v;
}

/** A label converted with String() or Number(): lists and objects have no such form, they are refused. */
function primitive(v: unknown, where: string, field: string): unknown {
  if (typeof v === 'object' && v !== null) throw new Error(`${where}: field "${field}" is ${describe(v)}`);
  return v;
}

/** MIDI pitch and velocity are 0-127: a pitch beyond would index past a pitch-conditioned model's one-hot. */
function midi(v: number, where: string, field: string): number {
  if (v < 0 || v > 127) throw new Error(`${where}: ${field} ${v} is outside MIDI's 0-127`);
  return v;
}

/** A note_str names its WAV: a plain name, never a path that could reach outside the dataset folder. */
function plainNoteName(key: string, where: string): string {
  if (!/^[\w.+-]+$/.test(key) || key === '.' || key === '..' || key.startsWith('.'))
    throw new Error(`${where}: note name ${JSON.stringify(key)} is not a plain file name`);
  return key;
}

/** examples.json + audio/<note_str>.wav (WAVs beside examples.json are accepted too). */
export class JsonWavSource implements NoteSource {
  readonly notes: NoteMeta[] = [];
  readonly where: string;
  private readonly audioDir: string;

  constructor(dir: string) {
    const json = path.join(dir, 'examples.json');
    this.where = json;
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(json, 'utf8'));
    } catch (e) {
      throw new Error(
        `${json}: cannot read the NSynth examples list (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`${json}: expected an object keyed by note_str`);
    for (const [key, raw] of Object.entries(parsed as Record<string, Record<string, unknown>>)) {
      const w = `${json}: note "${key}"`;
      if (typeof raw !== 'object' || raw === null) throw new Error(`${w}: not an object`);
      if (raw.sample_rate !== undefined && raw.sample_rate !== 16000)
        throw new Error(`${w}: sample_rate ${describe(raw.sample_rate)}, expected 16000`);
      this.notes.push({
        noteStr: plainNoteName(key, json),
        pitch: midi(int(raw.pitch, w, 'pitch'), w, 'pitch'),
        velocity: midi(int(raw.velocity, w, 'velocity'), w, 'velocity'),
        family: int(raw.instrument_family, w, 'instrument_family'),
        source: int(raw.instrument_source, w, 'instrument_source'),
        instrument: String(primitive(raw.instrument_str, w, 'instrument_str') ?? key.replace(/-\d+-\d+$/, '')),
        qualities: Array.isArray(raw.qualities) ? raw.qualities.map((q) => Number(primitive(q, w, 'qualities'))) : [],
      });
    }
    const sub = path.join(dir, 'audio');
    this.audioDir = fs.existsSync(sub) ? sub : dir;
    // Every note's WAV, checked now rather than when training first draws it.
    const missing = this.notes.filter((n) => !fs.existsSync(this.wavOf(n)));
    if (missing.length)
      throw new Error(
        `${json}: ${missing.length} note(s) have no WAV, e.g. ${this.wavOf(missing[0])}` +
          (missing.length > 1
            ? ` (and ${missing
                .slice(1, 3)
                .map((n) => `"${n.noteStr}"`)
                .join(', ')}${missing.length > 3 ? ', ...' : ''})`
            : ''),
      );
  }

  private wavOf(n: NoteMeta): string {
    return path.join(this.audioDir, `${n.noteStr}.wav`);
  }

  audio(index: number): Float32Array {
    return readWav16k(this.wavOf(this.notes[index]));
  }

  close(): void {}
}

/** A TFRecord of NSynth Examples: one streamed pass lists the notes (checking every CRC), audio is re-read per use. */
export class TfRecordSource implements NoteSource {
  readonly notes: NoteMeta[] = [];
  private readonly refs: RecordRef[] = [];
  private readonly indices: number[] = [];
  private readonly reader: TfRecordReader;

  constructor(readonly where: string) {
    this.reader = new TfRecordReader(where);
    try {
      for (const { ref, index, data } of this.reader.records()) {
        const f = decodeExample(data, `${where}: record ${index}`, LABEL_FEATURES);
        this.notes.push(metaFromExample(f, `${where}: record ${index}`));
        this.refs.push(ref);
        this.indices.push(index);
      }
    } catch (e) {
      this.reader.close();
      throw e;
    }
  }

  audio(i: number): Float32Array {
    const where = `${this.where}: record ${this.indices[i]}`;
    const f = decodeExample(this.reader.read(this.refs[i], this.indices[i]), where);
    const a = f.get('audio');
    if (a?.kind !== 'float') throw new Error(`${where}: no float feature "audio"`);
    if (a.values.length === 0) throw new Error(`${where}: empty audio`);
    return a.values;
  }

  close(): void {
    this.reader.close();
  }
}

/** The features an index pass decodes (the audio is decoded when a note is used). */
const LABEL_FEATURES = new Set([
  'note_str',
  'pitch',
  'velocity',
  'instrument_family',
  'instrument_source',
  'instrument_str',
  'qualities',
]);

function metaFromExample(f: Map<string, Feature>, where: string): NoteMeta {
  const one = (name: string): number => {
    const v = f.get(name);
    if (v?.kind !== 'int64' || v.values.length < 1) throw new Error(`${where}: missing int64 feature "${name}"`);
    return v.values[0];
  };
  const str = (name: string): string | null => {
    const v = f.get(name);
    return v && v.kind === 'bytes' && v.values.length > 0 ? new TextDecoder().decode(v.values[0]) : null;
  };
  const noteStr = str('note_str');
  if (!noteStr) throw new Error(`${where}: missing bytes feature "note_str"`);
  const q = f.get('qualities');
  return {
    noteStr,
    pitch: midi(one('pitch'), where, 'pitch'),
    velocity: midi(one('velocity'), where, 'velocity'),
    family: one('instrument_family'),
    source: one('instrument_source'),
    instrument: str('instrument_str') ?? noteStr.replace(/-\d+-\d+$/, ''),
    qualities: q && q.kind === 'int64' ? q.values : [],
  };
}

/** A folder with examples.json, or a .tfrecord file. */
export function openNoteSource(p: string): NoteSource {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new Error(`${p}: no such file or folder (expected an NSynth folder with examples.json, or a .tfrecord file)`);
  }
  if (st.isDirectory()) return new JsonWavSource(p);
  return new TfRecordSource(p);
}
