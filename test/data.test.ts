// NSynth data: the JSON/WAV and TFRecord readers (real notes and Magenta's test array), corrupted
// records, filters and the instrument split, the seeded crop sampler, the synthetic note generator.
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  JsonWavSource,
  TfRecordSource,
  openNoteSource,
  matches,
  parseLabelList,
  FAMILIES,
} from '../src/dataset/nsynth.js';
import { encodeTfRecords, TfRecordReader } from '../src/dataset/tfrecord.js';
import { decodeExample, encodeExample, type Feature } from '../src/dataset/tf-example.js';
import { decodeNpy } from '../src/formats/npy.js';
import {
  CropSampler,
  checkNotesReadable,
  cropRms,
  splitNotes,
  evalBatches,
  LOUD_CROP_TRIES,
} from '../src/train/data.js';
import type { NoteSource } from '../src/dataset/nsynth.js';
import { writeSyntheticDataset, synthesizeNote, SYNTH_KINDS } from '../src/dataset/synthetic-notes.js';

const NSYNTH = path.resolve(__dirname, '../../shared/data/nsynth');
const haveData = fs.existsSync(path.join(NSYNTH, 'examples.json'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-data-'));

function skipWithoutData(ctx: { skip: () => void }): void {
  if (!haveData) {
    console.warn(`skipped: ${NSYNTH} is absent (CI always has ../shared/data)`);
    ctx.skip();
  }
}

function example(noteStr: string, pitch: number, family: number, audio: Float32Array): Uint8Array {
  const f: Record<string, Feature> = {
    note_str: { kind: 'bytes', values: [new TextEncoder().encode(noteStr)] },
    pitch: { kind: 'int64', values: [pitch] },
    velocity: { kind: 'int64', values: [100] },
    audio: { kind: 'float', values: audio },
    qualities: { kind: 'int64', values: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0] },
    instrument_source: { kind: 'int64', values: [0] },
    instrument_family: { kind: 'int64', values: [family] },
    instrument_str: { kind: 'bytes', values: [new TextEncoder().encode(noteStr.replace(/-\d+-\d+$/, ''))] },
  };
  return encodeExample(f);
}

/** Notes held in memory as a NoteSource (one instrument each), with the given MIDI pitches. */
function memoryNotes(audio: Float32Array[], pitchOf: (i: number) => number): NoteSource {
  return {
    where: 'memory',
    notes: audio.map((_, i) => ({
      noteStr: `synthetic_${i}`,
      pitch: pitchOf(i),
      velocity: 100,
      family: 0,
      source: 0,
      instrument: `inst${i}`,
      qualities: [],
    })),
    audio: (i) => audio[i],
    close: () => {},
  };
}

describe('NSynth JSON/WAV release layout', () => {
  it('reads the real notes and their labels', (ctx) => {
    skipWithoutData(ctx);
    const src = new JsonWavSource(NSYNTH);
    // examples.json lists 7 of the 8 WAVs in the folder; the list is what defines the dataset.
    expect(src.notes.length).toBe(7);
    const g = src.notes.find((n) => n.noteStr === 'guitar_acoustic_010-060-127')!;
    expect(g).toMatchObject({
      pitch: 60,
      velocity: 127,
      family: FAMILIES.indexOf('guitar'),
      source: 0,
      instrument: 'guitar_acoustic_010',
    });
    expect(src.audio(src.notes.indexOf(g)).length).toBe(64000);
  });

  it('names the file and the note when a label is missing', () => {
    const dir = path.join(tmp, 'bad-json');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'examples.json'),
      JSON.stringify({ a_b_000_060_100: { velocity: 100, instrument_family: 0, instrument_source: 0 } }),
    );
    expect(() => new JsonWavSource(dir)).toThrow(/examples\.json: note "a_b_000_060_100": field "pitch" is undefined/);
    fs.writeFileSync(path.join(dir, 'examples.json'), '{"x": ');
    expect(() => new JsonWavSource(dir)).toThrow(/examples\.json: cannot read/);
  });

  it('checks what it can when opened: every WAV present, MIDI ranges, note names that stay in the folder', () => {
    const dir = path.join(tmp, 'checked');
    writeSyntheticDataset(dir, { notes: 4, seed: 1, samples: 500 });
    const json = path.join(dir, 'examples.json');
    const good = JSON.parse(fs.readFileSync(json, 'utf8'));
    const names = Object.keys(good);
    const edit = (f: (ex: Record<string, Record<string, unknown>>) => void) => {
      const ex = JSON.parse(JSON.stringify(good));
      f(ex);
      fs.writeFileSync(json, JSON.stringify(ex));
    };
    edit((ex) => {
      ex.ghost_acoustic_000_060_100 = { ...ex[names[0]] };
    });
    expect(() => new JsonWavSource(dir)).toThrow(
      /examples\.json: 1 note\(s\) have no WAV, e\.g\. .*audio\/ghost_acoustic_000_060_100\.wav/,
    );
    edit((ex) => {
      ex[names[1]].pitch = 1000;
    });
    expect(() => new JsonWavSource(dir)).toThrow(new RegExp(`note "${names[1]}": pitch 1000 is outside MIDI's 0-127`));
    edit((ex) => {
      ex['../../etc/passwd'] = { ...ex[names[0]] };
    });
    expect(() => new JsonWavSource(dir)).toThrow(/note name "\.\.\/\.\.\/etc\/passwd" is not a plain file name/);
    edit(() => {});
    expect(new JsonWavSource(dir).notes.length).toBe(4);
    // A WAV cut short (its header promises more) is an error naming it, not a shorter note.
    const wav = path.join(dir, 'audio', `${names[2]}.wav`);
    fs.truncateSync(wav, fs.statSync(wav).size - 100);
    const src = new JsonWavSource(dir);
    expect(() => src.audio(2)).toThrow(/the header promises \d+ bytes of samples, the file holds \d+ \(truncated\)/);
    // ... and training reads every note before step 1, so it stops there, naming the file.
    expect(() => checkNotesReadable(src, [0, 1, 2, 3])).toThrow(new RegExp(`${names[2]}\\.wav: the header promises`));
  });
});

describe('TFRecord + tf.train.Example', () => {
  it("round-trips Magenta's test array (16 real notes) through a TFRecord file", (ctx) => {
    skipWithoutData(ctx);
    const npy = decodeNpy(
      new Uint8Array(fs.readFileSync(path.join(NSYNTH, 'magenta-testdata/example_nsynth_audio.npy'))),
      'example_nsynth_audio.npy',
    );
    const [n, len] = npy.shape;
    const records = Array.from({ length: n }, (_, i) =>
      example(
        `keyboard_acoustic_${String(i).padStart(3, '0')}-0${40 + i}-100`,
        40 + i,
        4,
        npy.data.subarray(i * len, (i + 1) * len),
      ),
    );
    const file = path.join(tmp, 'magenta.tfrecord');
    fs.writeFileSync(file, encodeTfRecords(records));
    const src = openNoteSource(file);
    expect(src.notes.length).toBe(n);
    expect(src.notes[3]).toMatchObject({ pitch: 43, family: 4, instrument: 'keyboard_acoustic_003' });
    expect(src.audio(5)).toEqual(npy.data.subarray(5 * len, 6 * len));
    src.close();
  });

  it('decodes unpacked lists and negative int64s too', () => {
    // Feature{int64_list{value: -3 (unpacked)}}, built by hand.
    const neg = [0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    const int64List = [0x08, ...neg];
    const feature = [0x1a, int64List.length, ...int64List];
    const entry = [0x0a, 1, 0x6b /* "k" */, 0x12, feature.length, ...feature];
    const features = [0x0a, entry.length, ...entry];
    const ex = Uint8Array.from([0x0a, features.length, ...features]);
    expect(decodeExample(ex, 'hand')).toEqual(new Map([['k', { kind: 'int64', values: [-3] }]]));
    const packed = encodeExample({ k: { kind: 'int64', values: [-3, 7, 2 ** 40] } });
    expect(decodeExample(packed, 'packed').get('k')).toEqual({ kind: 'int64', values: [-3, 7, 2 ** 40] });
  });

  it('reports the bad record: a flipped data byte, a corrupted length, a truncated file, a malformed Example', () => {
    const recs = [0, 1, 2].map((i) =>
      example(`bass_synthetic_00${i}-060-100`, 60, 0, new Float32Array(100).fill(i / 10)),
    );
    const good = encodeTfRecords(recs);
    const second = recs[0].length + 16; // byte offset of record 1
    const write = (name: string, bytes: Uint8Array) => {
      const f = path.join(tmp, name);
      fs.writeFileSync(f, bytes);
      return f;
    };
    const flipped = good.slice();
    flipped[second + 12 + 40] ^= 0x10;
    expect(() => new TfRecordSource(write('flip.tfrecord', flipped))).toThrow(
      /flip\.tfrecord: record 1 at byte \d+: data CRC mismatch/,
    );
    const len = good.slice();
    len[second + 5] ^= 0x01; // a huge length, caught by the header CRC before anything is allocated
    expect(() => new TfRecordSource(write('len.tfrecord', len))).toThrow(
      /len\.tfrecord: record 1 at byte \d+: length CRC mismatch/,
    );
    expect(() => new TfRecordSource(write('trunc.tfrecord', good.subarray(0, good.length - 7)))).toThrow(
      /trunc\.tfrecord: record 2 at byte \d+: truncated/,
    );
    const junk = encodeTfRecords([Uint8Array.from([0x0a, 0x7f, 1, 2])]);
    expect(() => new TfRecordSource(write('junk.tfrecord', junk))).toThrow(
      /junk\.tfrecord: record 0: malformed tf\.train\.Example/,
    );
    const r = new TfRecordReader(write('ok.tfrecord', good));
    expect([...r.records()].map((x) => x.index)).toEqual([0, 1, 2]);
    r.close();
  });
});

describe('filters, split and sampler', () => {
  const dir = path.join(tmp, 'synthetic');
  const metas = writeSyntheticDataset(dir, { notes: 30, seed: 4, samples: 8000, pitchMin: 40, pitchMax: 70 });

  it('the synthetic dataset is a readable release layout with its labels', () => {
    const src = new JsonWavSource(dir);
    expect(src.notes).toEqual(metas);
    expect(new Set(metas.map((m) => m.family)).size).toBe(SYNTH_KINDS.length);
    for (const m of metas) expect(m.noteStr).toMatch(/^[a-z_]+_synthetic_\d{3}-\d{3}-\d{3}$/);
    expect(src.audio(0).length).toBe(8000);
  });

  it('each kind of synthetic note has its energy at its pitch', () => {
    for (const kind of SYNTH_KINDS) {
      const pitch = 57; // 220 Hz
      const a = synthesizeNote(kind, pitch, 100, 16000, 1);
      const power = (f: number) => {
        let re = 0;
        let im = 0;
        for (let i = 0; i < 8000; i++) {
          re += a[i] * Math.cos((2 * Math.PI * f * i) / 16000);
          im += a[i] * Math.sin((2 * Math.PI * f * i) / 16000);
        }
        return re * re + im * im;
      };
      expect(power(220), kind).toBeGreaterThan(5 * power(220 * 2 ** (6 / 12))); // vs a tritone above
      let peak = 0;
      for (const v of a) peak = Math.max(peak, Math.abs(v));
      expect(peak, kind).toBeCloseTo((0.9 * 100) / 127, 5);
    }
  });

  it('filters by family, source, pitch and velocity; holds out whole instruments', () => {
    const src = new JsonWavSource(dir);
    const filter = { families: parseLabelList('organ,mallet', FAMILIES, 'family'), pitchMin: 45, pitchMax: 65 };
    const kept = src.notes.filter((n) => matches(n, filter));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.every((n) => [6, 5].includes(n.family) && n.pitch >= 45 && n.pitch <= 65)).toBe(true);
    const { train, evaluation } = splitNotes(src, {}, 0.2);
    const trainInst = new Set(train.map((i) => src.notes[i].instrument));
    expect(evaluation.length).toBeGreaterThan(0);
    expect(evaluation.every((i) => !trainInst.has(src.notes[i].instrument))).toBe(true);
    expect(train.length + evaluation.length).toBe(30);
    expect(() => parseLabelList('harp', FAMILIES, 'family')).toThrow(/Unknown family "harp"/);
    expect(() => splitNotes(src, { pitchMin: 100 }, 0.1)).toThrow(/no notes pass the filters/);
  });

  it('the crop sampler is seeded and resumes from its saved state exactly', () => {
    const src = new JsonWavSource(dir);
    const notes = src.notes.map((_, i) => i);
    const a = new CropSampler(src, notes, 1024, 9);
    const first = [a.next(4), a.next(4)];
    const saved = a.state();
    const rest = [a.next(4), a.next(4), a.next(4), a.next(4), a.next(4), a.next(4), a.next(4), a.next(4)]; // crosses an epoch
    const b = new CropSampler(src, notes, 1024, 9);
    expect([b.next(4), b.next(4)]).toEqual(first);
    const c = new CropSampler(src, notes, 1024, 9, saved);
    for (const r of rest) expect(c.next(4)).toEqual(r);
    expect(new CropSampler(src, notes, 1024, 10).next(4)).not.toEqual(first[0]);
    const ev = evalBatches(src, notes.slice(0, 5), 2, 1024, 10);
    expect(ev.length).toBe(3);
    expect(ev[0].pitch[0]).toBe(src.notes[0].pitch);
    expect(ev[0].audio.subarray(0, 1024)).toEqual(src.audio(0).subarray(3488, 3488 + 1024));
  });

  it('--min-crop-rms draws crops where the note sounds, still takes a silent note, and resumes exactly', () => {
    // Three 4 s notes: a tone in its first half second then silence (as a plucked note's release),
    // a tone throughout, and silence (which must still be cropped, not loop forever).
    const n = 64000;
    const plucked = new Float32Array(n);
    const held = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const tone = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000);
      held[i] = tone;
      if (i < 8000) plucked[i] = tone;
    }
    const src = memoryNotes([plucked, held, new Float32Array(n)], () => 69);
    const L = 2048;
    const quietShare = (minRms: number) => {
      const s = new CropSampler(src, [0], L, 3, undefined, minRms);
      let quiet = 0;
      for (let k = 0; k < 200; k++) if (cropRms(s.next(1), 0, L) < 0.01) quiet++;
      return quiet / 200;
    };
    // Uniform crops of the plucked note: about 7/8 of them lie in its silence.
    expect(quietShare(0)).toBeGreaterThan(0.75);
    // Redrawn: quiet only when all LOUD_CROP_TRIES draws miss the first half second ((7/8)^16 = 12%).
    expect((7 / 8) ** LOUD_CROP_TRIES).toBeLessThan(0.15);
    expect(quietShare(0.01)).toBeLessThan(0.3);
    // The silent note still gives a crop (of zeros); the held note's crops are all loud.
    const silent = new CropSampler(src, [2], L, 3, undefined, 0.01);
    expect(silent.next(2).every((v) => v === 0)).toBe(true);
    const loud = new CropSampler(src, [1], L, 3, undefined, 0.01);
    for (let k = 0; k < 10; k++) expect(cropRms(loud.next(1), 0, L)).toBeGreaterThan(0.3);
    // A saved state continues the same draws.
    const a = new CropSampler(src, [0, 1, 2], L, 5, undefined, 0.01);
    a.next(3);
    const saved = a.state();
    const rest = [a.next(2), a.next(4)];
    const b = new CropSampler(src, [0, 1, 2], L, 5, saved, 0.01);
    expect([b.next(2), b.next(4)]).toEqual(rest);
    // cropRms counts samples past the end as zeros.
    expect(cropRms(new Float32Array([1, 1]), 0, 8)).toBeCloseTo(0.5, 12);
  });

  it("--onset-crops starts about the given share of crops at the note's first sample, leaves p = 0 runs unchanged, and resumes exactly", () => {
    // Notes whose every sample differs (a ramp), so a crop's first sample says where it starts.
    const n = 16000;
    const audio = [0, 1, 2].map((k) => Float32Array.from({ length: n }, (_, i) => (k * n + i + 1) / (4 * n)));
    const src = memoryNotes(audio, (i) => 60 + i);
    const L = 1024;
    const onsetShare = (p: number, minRms = 0) => {
      const s = new CropSampler(src, [0, 1, 2], L, 7, undefined, minRms, p);
      let onsets = 0;
      const draws = 600;
      for (let k = 0; k < draws; k++) {
        const b = s.nextBatch(1);
        if (b.audio[0] === audio[b.pitch[0] - 60][0]) onsets++;
      }
      return onsets / draws;
    };
    expect(onsetShare(1)).toBe(1);
    expect(onsetShare(0.3)).toBeGreaterThan(0.24);
    expect(onsetShare(0.3)).toBeLessThan(0.36);
    expect(onsetShare(0.3, 0.01)).toBeGreaterThan(0.24); // with --min-crop-rms too
    // Uniform offsets: a start at 0 is one in (n - L + 1).
    expect(onsetShare(0)).toBeLessThan(0.01);
    // p = 0 spends no draw: the crops of a run without the option are the ones it always had.
    const before = new CropSampler(src, [0, 1, 2], L, 9, undefined, 0.01);
    const now = new CropSampler(src, [0, 1, 2], L, 9, undefined, 0.01, 0);
    expect(now.next(8)).toEqual(before.next(8));
    // A saved state continues the same draws.
    const a = new CropSampler(src, [0, 1, 2], L, 5, undefined, 0, 0.5);
    a.next(3);
    const saved = a.state();
    const rest = [a.next(2), a.next(4)];
    const b = new CropSampler(src, [0, 1, 2], L, 5, saved, 0, 0.5);
    expect([b.next(2), b.next(4)]).toEqual(rest);
  });
});
