// Embedding interpolation (NSynth's timbre morph): the mix's ends are the two notes' embeddings,
// and `nsynth interpolate` writes the morphs and the waveform mixes, its mix 0 being the plain
// generation of the first note.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav, readWav16k } from '../src/formats/wav.js';
import { interpolateEmbeddings, mixWaveforms } from '../src/model/interpolate.js';
import { modelFromWeights } from '../src/nsynth.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { nsynth, nsynthOk } from './cli-run.js';
import { testEngine } from './helpers.js';
import { note } from './generate-helpers.js';

const DATA = path.resolve(__dirname, '../../shared/data/nsynth');
const haveData = fs.existsSync(DATA);

describe('interpolateEmbeddings', () => {
  it("mix 0 and 1 give the two notes' embeddings (over the shorter note), 0.5 their mean", async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 3, { biasScale: 0.1 }));
    const za = await model.encode(note(1, 4096));
    const zb = await model.encode(note(2, 2048));
    expect(za.shape).toEqual([8, 16]);
    expect(zb.shape).toEqual([4, 16]);
    expect(interpolateEmbeddings(za, zb, 0)).toEqual({ data: za.data.subarray(0, 64), shape: [4, 16] });
    expect(interpolateEmbeddings(za, zb, 1)).toEqual(zb);
    const half = interpolateEmbeddings(za, zb, 0.5);
    for (let i = 0; i < 64; i++) expect(half.data[i]).toBeCloseTo((za.data[i] + zb.data[i]) / 2, 6);
    expect(() => interpolateEmbeddings(za, { data: new Float32Array(12), shape: [4, 3] }, 0.5)).toThrow(
      /must both be \[frames, channels\], got \[8,16\] and \[4,3\]/,
    );
    expect(() => interpolateEmbeddings(za, zb, Number.NaN)).toThrow(/finite/);
    // From JavaScript, a bare array where an embedding belongs: what is wanted, not a TypeError.
    expect(() => interpolateEmbeddings(za, zb.data as unknown as typeof zb, 0.5)).toThrow(
      /give two embeddings as \{ data, shape: \[frames, channels\] \}/,
    );
    expect(mixWaveforms(Float32Array.of(1, 2, 3), Float32Array.of(3, 4), 0.25)).toEqual(Float32Array.of(1.5, 2.5));
    model.dispose();
  });
});

describe.skipIf(!haveData)('nsynth interpolate', () => {
  it('writes a sweep of morphs and waveform mixes; mix 0 is the first note generated alone; bad mixes are refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-interp-'));
    const cut = (name: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, encodeWav(readWav16k(path.join(DATA, name)).subarray(0, 4096)));
      return file;
    };
    const a = cut('guitar_acoustic_010-060-127.wav');
    const b = cut('flute_synthetic_000-060-025.wav');
    const out = path.join(dir, 'out', 'morph.wav');
    const model = ['--model', 'random:tiny', '--seed', '5', '--quiet'];
    await nsynthOk(['interpolate', a, b, '--mix', '0,0.5,1', '--out', out, ...model]);
    const names = fs.readdirSync(path.dirname(out)).sort();
    expect(names).toEqual([
      'morph-mix0-waveform.wav',
      'morph-mix0.5-waveform.wav',
      'morph-mix0.5.wav',
      'morph-mix0.wav',
      'morph-mix1-waveform.wav',
      'morph-mix1.wav',
    ]);
    const read = (f: string) => decodeWav(fs.readFileSync(path.join(dir, 'out', f)), f).samples;
    const alone = path.join(dir, 'alone.wav');
    await nsynthOk(['generate', '--input', a, '--out', alone, ...model]);
    expect(read('morph-mix0.wav')).toEqual(decodeWav(fs.readFileSync(alone), alone).samples);
    expect(read('morph-mix0.5.wav')).not.toEqual(read('morph-mix0.wav'));
    // The CLI writes 16-bit PCM: the mix rounded to 16 bits.
    const mix = mixWaveforms(readWav16k(a), readWav16k(b), 0.5);
    expect(read('morph-mix0.5-waveform.wav')).toEqual(decodeWav(encodeWav(mix, 16000, '16'), 'mix').samples);
    const bad = await nsynth(['interpolate', a, b, '--mix', '0.5,2', '--out', out, ...model]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--mix must be a number from 0 to 1, got "2"/);
  });
});

describe.skipIf(!haveData)('nsynth reconstruct --pitch-shift (the pitch experiment)', () => {
  it('decodes at the shifted pitch on a pitch-conditioned model and refuses it elsewhere or out of range', async () => {
    const guitar = path.join(DATA, 'guitar_acoustic_010-060-127.wav');
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-shift-')), 'x.wav');
    const args = ['reconstruct', guitar, '--seconds', '0.05', '--out', out, '--quiet'];
    const ok = await nsynthOk([...args, '--model', 'random:tiny_pitch', '--pitch-shift', '2']);
    expect(ok).toMatch(/pitch 62 from the file name shifted \+2/);
    const far = await nsynth([...args, '--model', 'random:tiny_pitch', '--pitch-shift', '100']);
    expect(far.stderr).toMatch(/pitch 60 \+ 100 = 160 is outside MIDI 0-127/);
    const plain = await nsynth([...args, '--model', 'random:tiny', '--pitch-shift', '1']);
    expect(plain.stderr).toMatch(/--pitch-shift: config tiny is not pitch-conditioned/);
  });
});

describe.skipIf(!haveData)('the spectrogram baseline from the CLI', () => {
  it('interpolate and reconstruct take a baseline model (--griffin-lim rounds), pitch shifts included', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-baseline-cli-'));
    const guitar = path.join(DATA, 'guitar_acoustic_010-060-127.wav');
    const flute = path.join(DATA, 'flute_synthetic_000-060-025.wav');
    const model = ['--model', 'random:baseline_micro', '--griffin-lim', '2'];
    await nsynthOk(['interpolate', guitar, flute, '--mix', '0,0.5', '--out', path.join(dir, 'm.wav'), ...model]);
    expect(fs.readdirSync(dir).sort()).toEqual([
      'm-mix0-waveform.wav',
      'm-mix0.5-waveform.wav',
      'm-mix0.5.wav',
      'm-mix0.wav',
    ]);
    // the micro baseline's notes are 57 samples: its morphs and mixes are cut to them
    expect(decodeWav(fs.readFileSync(path.join(dir, 'm-mix0.5.wav')), 'm').samples.length).toBe(57);
    const out = await nsynthOk([
      'reconstruct',
      guitar,
      '--out',
      path.join(dir, 'r.wav'),
      '--pitch-shift',
      '2',
      ...model,
    ]);
    expect(out).toMatch(
      /baseline baseline_micro, pitch 62 from the file name shifted \+2, Griffin-Lim 2 rounds; the baseline takes/,
    );
  });
});
