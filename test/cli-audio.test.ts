// The commands' audio and results end to end: WAVs at other rates read through the CLI (resampled,
// mixed down, said on stderr), lengths rounded to frames with a note, folders of notes in and out,
// 16-bit WAVs by default, --json results, progress bars only on a terminal, and benchmark rows
// that say what they were measured with.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpy } from '../src/formats/npy.js';
import { encodeWav, readWavResampled } from '../src/formats/wav.js';
import { loadModel } from '../src/nsynth.js';
import { BIN, nsynth, nsynthOk } from './cli-run.js';
import { testEngine } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-cli-audio-'));
const python = spawnSync('python3', ['-c', 'import wave'], { encoding: 'utf8' }).status === 0;
const haveScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** A 16-bit PCM WAV of interleaved channels, written by hand (as a recorder would). */
function pcm16Wav(channels: Float32Array[], rate: number): Uint8Array {
  const n = channels[0].length;
  const c = channels.length;
  const b = Buffer.alloc(44 + n * c * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * c * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(c, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * c * 2, 28);
  b.writeUInt16LE(c * 2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * c * 2, 40);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++) b.writeInt16LE(Math.round(channels[ch][i] * 32767), 44 + (i * c + ch) * 2);
  return b;
}

const sine = (hz: number, rate: number, n: number, a: number) =>
  Float32Array.from({ length: n }, (_, t) => a * Math.sin((2 * Math.PI * hz * t) / rate));

// 0.2 s at 48 kHz, stereo: 3,200 samples at 16 kHz, trimmed to 3,072 (6 frames).
const stereo = path.join(tmp, 'stereo48k.wav');
fs.writeFileSync(stereo, pcm16Wav([sine(330, 48000, 9600, 0.5), sine(330, 48000, 9600, 0.3)], 48000));
const model = path.join(tmp, 'tiny');

/** One file of a command's --json result. */
interface FileResult {
  file: string;
  input?: string;
  shape?: number[];
  samples?: number;
  pitch?: number;
}

/** A command's --json result: stdout must hold that one object and nothing else. */
async function json(args: string[]): Promise<{ files: FileResult[] } & Record<string, unknown>> {
  return JSON.parse(await nsynthOk([...args, '--json']));
}

/** The format fields of a WAV's fmt chunk: format code and bits per sample. */
function wavFormat(file: string): { format: number; bits: number } {
  const b = fs.readFileSync(file);
  return { format: b.readUInt16LE(20), bits: b.readUInt16LE(34) };
}

describe('nsynth --json and other sample rates', () => {
  it('init, encode, logits and generate print one JSON object; a 48 kHz stereo note is resampled, saying so', async () => {
    const init = JSON.parse(await nsynthOk(['init', '--config', 'tiny', '--seed', '4', '--out', model, '--json']));
    expect(init).toMatchObject({ out: model, config: 'tiny', parameters: 147568, seed: 4, dtype: 'f32' });
    expect(init.files).toEqual([path.join(model, 'manifest.json'), path.join(model, 'weights.bin')]);
    expect(init.seconds).toBeGreaterThanOrEqual(0);

    const emb = path.join(tmp, 'stereo.npy');
    const r = await nsynth(['encode', stereo, '--model', model, '--out', emb, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^nsynth: stereo48k\.wav is 48000 Hz stereo: mixed down and resampled to 16000 Hz$/m);
    expect(r.stderr).toMatch(
      /^nsynth: stereo48k\.wav: 3200 samples trimmed to 3072 \(whole frames of 512; --length-policy pad keeps them\)$/m,
    );
    const encoded = JSON.parse(r.stdout);
    expect(encoded).toMatchObject({ model, files: [{ input: stereo, file: emb, shape: [6, 16] }] });
    expect(encoded.adapter).toMatch(/\w/);
    // The CLI's embedding is the library's of the resampled note.
    const e = await testEngine();
    const m = await loadModel(e, model);
    const resampled = await readWavResampled(stereo);
    expect(decodeNpy(fs.readFileSync(emb), emb).data).toEqual((await m.encode(resampled.samples)).data);
    m.dispose();

    const logits = await json([
      'logits',
      stereo,
      '--model',
      model,
      '--embedding',
      emb,
      '--out',
      path.join(tmp, 'l.npy'),
    ]);
    expect(logits.files).toEqual([{ input: stereo, file: path.join(tmp, 'l.npy'), shape: [3072, 256] }]);

    // --seconds that is not whole frames: rounded, with a note; the WAV is 16-bit PCM by default.
    const out = path.join(tmp, 'g.wav');
    const g = await nsynth([
      'generate',
      '--model',
      model,
      '--embedding',
      emb,
      '--seconds',
      '0.1',
      '--out',
      out,
      '--json',
    ]);
    expect(g.status, g.stderr).toBe(0);
    expect(g.stderr).toMatch(
      /nsynth: --seconds 0\.1 is 1600 samples: rounded to 3 frames of 512, 1536 samples \(0\.096 s\)/,
    );
    expect(JSON.parse(g.stdout)).toMatchObject({
      format: 'pcm16',
      sampleRate: 16000,
      files: [{ file: out, samples: 1536 }],
    });
    expect(wavFormat(out)).toEqual({ format: 1, bits: 16 });
    if (python) {
      const py = execFileSync('python3', ['-c', 'import sys, wave; print(wave.open(sys.argv[1]).getparams())', out], {
        encoding: 'utf8',
      });
      expect(py).toMatch(/nchannels=1, sampwidth=2, framerate=16000, nframes=1536/);
    } else console.warn("skipped the check with Python's wave module: python3 is not installed");
    await nsynthOk(['generate', '--model', model, '--embedding', emb, '--seconds', '0.064', '--out', out, '--float']);
    expect(wavFormat(out)).toEqual({ format: 0xfffe, bits: 32 });
  });
});

describe('a folder of notes as --input', () => {
  const notes = path.join(tmp, 'notes');
  fs.mkdirSync(notes);
  fs.writeFileSync(path.join(notes, 'b.wav'), fs.readFileSync(stereo));
  fs.writeFileSync(path.join(notes, 'a.wav'), encodeWav(sine(262, 16000, 2048, 0.4)));
  fs.writeFileSync(path.join(notes, 'notes.txt'), 'not a note');
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);

  it('encode, generate and reconstruct write one file per note, named after it, into the --out folder', async () => {
    const embs = path.join(tmp, 'embs');
    const enc = await json(['encode', '--input', notes, '--model', 'random:tiny', '--out', embs]);
    expect(enc.files.map((f) => [path.basename(f.file), f.shape])).toEqual([
      ['a.npy', [4, 16]],
      ['b.npy', [6, 16]],
    ]);
    const gens = path.join(tmp, 'gens');
    const gen = await json(['generate', '--input', notes, '--model', 'random:tiny', '--batch', '2', '--out', gens]);
    expect(gen.files.map((f) => [path.basename(f.file), f.samples])).toEqual([
      ['a-0.wav', 2048],
      ['a-1.wav', 2048],
      ['b-0.wav', 3072],
      ['b-1.wav', 3072],
    ]);
    expect(fs.readdirSync(gens).sort()).toEqual(['a-0.wav', 'a-1.wav', 'b-0.wav', 'b-1.wav']);
    const recs = path.join(tmp, 'recs');
    const rec = await json(['reconstruct', notes, '--model', 'random:tiny_pitch', '--seconds', '0.064', '--out', recs]);
    expect(rec.files.map((f) => [path.basename(f.file), f.pitch])).toEqual([
      ['a.wav', 60], // 262 Hz
      ['b.wav', 64], // 330 Hz
    ]);
    expect(fs.readdirSync(recs).sort()).toEqual(['a.wav', 'b.wav']);
  });

  it('refuses an empty folder by its name, and an --out that would overwrite the notes', async () => {
    for (const args of [
      ['encode', '--input', empty, '--out', path.join(tmp, 'x')],
      ['generate', '--input', empty, '--out', path.join(tmp, 'x')],
      ['reconstruct', empty, '--out', path.join(tmp, 'x')],
    ]) {
      const r = await nsynth(['--adapter', 'none-needed', ...args]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toBe(`nsynth: ${empty}: no .wav files in this folder\n`);
    }
    const r = await nsynth(['reconstruct', notes, '--model', 'random:tiny', '--out', notes]);
    expect(r.stderr).toMatch(/a\.wav: would overwrite the input; give another --out folder/);
    const both = await nsynth(['encode', stereo, '--input', notes, '--out', path.join(tmp, 'x')]);
    expect(both.stderr).toMatch(/give the input once: .* as an argument or --input .*, not both/);
  });
});

describe('progress bars', () => {
  /** Runs nsynth with a terminal as its stdout and stderr (util-linux `script`); returns what it drew. */
  const onTerminal = (args: string[]) =>
    execFileSync('script', ['-qec', [process.execPath, BIN, ...args].join(' '), '/dev/null'], { encoding: 'utf8' });

  it('are drawn on a terminal, not with --quiet, --json or stderr in a pipe', async (ctx) => {
    if (!haveScript) {
      console.warn('skipped: util-linux `script` (a terminal for the child) is not installed');
      ctx.skip();
    }
    const args = ['generate', '--input', path.join(tmp, 'notes'), '--model', 'random:tiny', '--seconds', '0.064'];
    const drawn = onTerminal([...args, '--out', path.join(tmp, 'bars')]);
    expect(drawn).toMatch(/encoding \|.*\| 2\/2 notes/);
    expect(drawn).toMatch(/generating \|.*\| 100% \| 1024\/1024 samples/);
    const quiet = onTerminal([...args, '--out', path.join(tmp, 'bars'), '--quiet']);
    expect(quiet).not.toMatch(/encoding|generating/);
    expect(quiet).toMatch(/wrote 2 files/);
    const json = onTerminal([...args, '--out', path.join(tmp, 'bars'), '--json']);
    expect(json).not.toMatch(/encoding|generating/);
    const piped = await nsynth([...args, '--out', path.join(tmp, 'bars')]);
    expect(piped.stderr).not.toMatch(/encoding|generating/);
  });
});

describe('nsynth bench --json', () => {
  it('every row carries the package version, git commit, Node version, adapter and an ISO time', async () => {
    const r = await nsynth(['bench', 'conv-tiles', '--config', 'tiny', '--rows', '64', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout); // the table went to stderr
    expect(r.stderr).toMatch(/kernel/);
    const version = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../package.json'), 'utf8')).version;
    let commit: string | null = null;
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], {
        cwd: path.resolve(__dirname, '..'),
        encoding: 'utf8',
      }).trim();
    } catch {
      // not a checkout: the rows say null
    }
    expect(result.rows.length).toBeGreaterThan(0);
    for (const row of [result, ...result.rows]) {
      expect(row).toMatchObject({ version, commit, node: process.version, adapter: result.adapter });
      expect(new Date(row.timestamp).toISOString()).toBe(row.timestamp);
    }
  });
});
