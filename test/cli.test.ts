// The `nsynth` command end to end: init -> encode -> logits, checked against the library.
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { testEngine } from './helpers.js';
import { BIN, nsynth, nsynthOk, runNode } from './cli-run.js';
import { spawn } from 'node:child_process';
import { loadModel } from '../src/nsynth.js';
import { decodeNpy } from '../src/formats/npy.js';
import { decodeWav, encodeWav, readWav16k } from '../src/formats/wav.js';
import { writeWeightsDir } from '../src/formats/weights-node.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-cli-'));
const run = (...args: string[]) => nsynthOk(args);

describe('package entry points', () => {
  it('nsynth-webgpu, nsynth-webgpu/train and nsynth-webgpu/convert resolve to the built files', async () => {
    const { stdout: out } = await runNode(
      [
        '--input-type=module',
        '-e',
        "const m = await import('nsynth-webgpu'); const t = await import('nsynth-webgpu/train'); const c = await import('nsynth-webgpu/convert');" +
          'console.log(typeof m.createEngine, typeof t.train, typeof t.TrainPlan, typeof c.convertToWeights, typeof c.TfBundle); process.exit(0)',
      ],
      { cwd: path.resolve(__dirname, '..') },
    );
    expect(out.trim()).toBe('function function function function function');
  });
});

describe('nsynth CLI', () => {
  it('init, encode and logits write files that match the library', async () => {
    const model = path.join(tmp, 'tiny');
    expect(await run('init', '--config', 'tiny', '--seed', '4', '--out', model)).toMatch(
      /config tiny, 147,568 parameters, seed 4/,
    );
    const wav = path.join(tmp, 'note.wav');
    fs.writeFileSync(wav, encodeWav(Float32Array.from({ length: 2048 }, (_, t) => 0.4 * Math.sin(t / 11))));
    const emb = path.join(tmp, 'emb.npy');
    await run('encode', wav, '--model', model, '--out', emb);
    const logits = path.join(tmp, 'logits.npy');
    await run('logits', wav, '--model', model, '--out', logits, '--embedding', emb);
    const E = decodeNpy(fs.readFileSync(emb), emb);
    const L = decodeNpy(fs.readFileSync(logits), logits);
    expect(E.shape).toEqual([4, 16]);
    expect(L.shape).toEqual([2048, 256]);

    const e = await testEngine();
    const m = await loadModel(e, model);
    const audio = readWav16k(wav);
    const ours = await m.encode(audio);
    expect(E.data).toEqual(ours.data);
    expect(L.data).toEqual((await m.teacherForcedLogits(audio, ours)).data);
    // generate: the CLI's audio is the library's, sample for sample, for the same seed (exact with
    // --float; the default 16-bit file holds it rounded to 16 bits)
    const gen = path.join(tmp, 'same.wav');
    await run('generate', '--model', model, '--embedding', emb, '--seed', '5', '--out', gen, '--quiet', '--float');
    const library = await m.generate(ours, { seed: 5 });
    expect(readWav16k(gen)).toEqual(library);
    const gen16 = path.join(tmp, 'same16.wav');
    await run('generate', '--model', model, '--embedding', emb, '--seed', '5', '--out', gen16, '--quiet');
    expect(readWav16k(gen16)).toEqual(decodeWav(encodeWav(library, 16000, '16'), gen16).samples);
    m.dispose();
  });

  it('generate writes WAVs of the requested length, reproducibly per seed, one per voice', async () => {
    const out = path.join(tmp, 'gen.wav');
    const wav = path.join(tmp, 'note2.wav');
    fs.writeFileSync(wav, encodeWav(Float32Array.from({ length: 2048 }, (_, t) => 0.3 * Math.sin(t / 7))));
    const msg = await run(
      'generate',
      '--model',
      'random:tiny',
      '--input',
      wav,
      '--out',
      out,
      '--seconds',
      '0.064',
      '--seed',
      '2',
      '--quiet',
    );
    expect(msg).toMatch(/wrote .*gen\.wav in/);
    const a = readWav16k(out);
    expect(a.length).toBe(1024);
    await run(
      'generate',
      '--model',
      'random:tiny',
      '--input',
      wav,
      '--out',
      out,
      '--seconds',
      '0.064',
      '--seed',
      '2',
      '--quiet',
    );
    expect(readWav16k(out)).toEqual(a);
    const emb = path.join(tmp, 'emb2.npy');
    await run('encode', wav, '--model', 'random:tiny', '--out', emb);
    const multi = path.join(tmp, 'multi.wav');
    await run(
      'generate',
      '--model',
      'random:tiny',
      '--embedding',
      emb,
      '--out',
      multi,
      '--batch',
      '2',
      '--temperature',
      '0',
      '--quiet',
    );
    const v0 = readWav16k(path.join(tmp, 'multi-0.wav'));
    const v1 = readWav16k(path.join(tmp, 'multi-1.wav'));
    expect(v0.length).toBe(2048);
    expect(v1).toEqual(v0); // argmax: both voices of one embedding agree
  });

  it('reconstruct: the pitch from --pitch, an NSynth file name or the f0; without a default model, a clear error', async () => {
    // A 262 Hz tone under an NSynth name (pitch 60 from the name) and under a plain one (pitch from its f0).
    const tone = Float32Array.from({ length: 8192 }, (_, t) => 0.5 * Math.sin((2 * Math.PI * 261.63 * t) / 16000));
    const named = path.join(tmp, 'tone_synthetic_000-060-100.wav');
    const plain = path.join(tmp, 'plain.wav');
    fs.writeFileSync(named, encodeWav(tone));
    fs.writeFileSync(plain, encodeWav(tone));
    const model = ['--model', 'random:tiny_pitch', '--seconds', '0.064', '--quiet'];
    const out = path.join(tmp, 'recon.wav');
    expect(await run('reconstruct', named, '--out', out, ...model)).toMatch(/pitch 60 from the file name/);
    expect(readWav16k(out).length).toBe(1024);
    expect(await run('reconstruct', plain, '--out', out, ...model)).toMatch(/pitch 60 from its f0 \(261\.\d Hz\)/);
    expect(await run('reconstruct', plain, '--out', out, ...model, '--pitch', '72')).toMatch(/pitch 72 from --pitch/);
    const manifest = path.resolve(__dirname, '../weights/default/manifest.json');
    if (!fs.existsSync(manifest)) {
      const r = await nsynth(['reconstruct', plain, '--out', out]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/no default model in .*weights\/default yet: pass --model/);
    } else {
      // The shipped default model is what every command uses without --model.
      expect(await run('reconstruct', named, '--out', out, '--seconds', '0.064', '--quiet')).toMatch(
        /pitch 60 from the file name/,
      );
      expect(readWav16k(out).length).toBe(1024);
      const meta = JSON.parse(fs.readFileSync(manifest, 'utf8')).meta;
      for (const k of ['data', 'steps', 'seed', 'trainSeconds', 'validationBitsPerSample'])
        expect(meta[k], `manifest meta.${k}`).toBeDefined();
      expect(meta.steps).toBeGreaterThan(0);
    }
  });

  it("generate and logits take a pitch-conditioned model's pitch from the note as reconstruct does", async () => {
    const tone = Float32Array.from({ length: 1024 }, (_, t) => 0.5 * Math.sin((2 * Math.PI * 329.63 * t) / 16000));
    const named = path.join(tmp, 'tone_synthetic_001-064-100.wav');
    fs.writeFileSync(named, encodeWav(tone));
    const model = ['--model', 'random:tiny_pitch', '--quiet'];
    // generate --input: the pitch from the NSynth file name, said on stderr and in the JSON.
    const gen = await nsynth(['generate', ...model, '--input', named, '--out', path.join(tmp, 'g64.wav'), '--json']);
    expect(gen.status, gen.stderr).toBe(0);
    expect(gen.stderr).toMatch(/tone_synthetic_001-064-100\.wav: pitch 64, from the file name/);
    const files = JSON.parse(gen.stdout).files;
    expect(files).toEqual([expect.objectContaining({ samples: 1024, pitch: 64, pitchFrom: 'the file name' })]);
    // logits: the same pitch, the same logits as with --pitch 64.
    const [byName, byFlag] = [path.join(tmp, 'l-name.npy'), path.join(tmp, 'l-flag.npy')];
    await run('logits', named, '--model', 'random:tiny_pitch', '--out', byName);
    await run('logits', named, '--model', 'random:tiny_pitch', '--out', byFlag, '--pitch', '64');
    expect(fs.readFileSync(byName).equals(fs.readFileSync(byFlag))).toBe(true);
    // An embedding carries no note: without --pitch, one clear line before any work.
    const emb = path.join(tmp, 'emb64.npy');
    await run('encode', named, '--model', 'random:tiny_pitch', '--out', emb);
    const bare = await nsynth(['generate', ...model, '--embedding', emb, '--out', path.join(tmp, 'bare.wav')]);
    expect(bare.status).toBe(1);
    expect(bare.stderr).toMatch(/config tiny_pitch is pitch-conditioned: give --pitch MIDI/);
    expect(fs.existsSync(path.join(tmp, 'bare.wav'))).toBe(false);
  });

  it('a missing --model folder is refused before the GPU starts; a trained model is replaced only with --overwrite', async () => {
    fs.writeFileSync(path.join(tmp, 'silence.wav'), encodeWav(new Float32Array(1024)));
    const missing = await nsynth([
      'encode',
      path.join(tmp, 'silence.wav'),
      '--model',
      path.join(tmp, 'no-model'),
      '--out',
      path.join(tmp, 'e.npy'),
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/no-model: no such folder/)]);
    // A weights folder whose manifest records training (as weights/default does) is not replaced by init or convert...
    const trained = path.join(tmp, 'trained');
    fs.mkdirSync(trained);
    writeWeightsDir(trained, initWeights(getConfig('tiny'), 3), 'f32', { steps: 1234 });
    const before = fs.readFileSync(path.join(trained, 'weights.bin'));
    const source = path.join(tmp, 'convert-source');
    await run('init', '--config', 'tiny', '--out', source);
    for (const args of [
      ['init', '--config', 'tiny', '--out', trained],
      ['convert', source, '--out', trained],
    ]) {
      const r = await nsynth(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/holds a trained model \(1,234 training steps; --overwrite replaces it\)/);
      expect(fs.readFileSync(path.join(trained, 'weights.bin')).equals(before)).toBe(true);
    }
    // ...unless asked.
    await run('init', '--config', 'tiny', '--seed', '9', '--out', trained, '--overwrite');
    expect(fs.readFileSync(path.join(trained, 'weights.bin')).equals(before)).toBe(false);
  });

  it('reconstruct --seconds past the end of a note reconstructs the whole note, not generated silence', async () => {
    const note = path.join(tmp, 'short_synthetic_002-060-100.wav');
    fs.writeFileSync(note, encodeWav(Float32Array.from({ length: 2048 }, (_, t) => 0.3 * Math.sin(t / 7))));
    const out = path.join(tmp, 'short-recon.wav');
    const r = await nsynth([
      'reconstruct',
      note,
      '--out',
      out,
      '--seconds',
      '10',
      '--model',
      'random:tiny_pitch',
      '--quiet',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /short_synthetic_002-060-100\.wav is 0\.13 s, shorter than --seconds asks: reconstructing all of it \(4 frames\)/,
    );
    expect(readWav16k(out).length).toBe(2048);
  });

  it('generate --input FOLDER --batch 2: each note at its own pitch, said per note and in the JSON', async () => {
    const dir = path.join(tmp, 'pitched-notes');
    fs.mkdirSync(dir);
    for (const name of ['a_synthetic_003-064-100.wav', 'b_synthetic_004-048-100.wav'])
      fs.writeFileSync(
        path.join(dir, name),
        encodeWav(Float32Array.from({ length: 1024 }, (_, t) => 0.3 * Math.sin(t / 5))),
      );
    const out = path.join(tmp, 'pitched-out');
    const r = await nsynth([
      'generate',
      '--model',
      'random:tiny_pitch',
      '--input',
      dir,
      '--out',
      out,
      '--batch',
      '2',
      '--json',
      '--quiet',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/a_synthetic_003-064-100\.wav: pitch 64, from the file name/);
    expect(r.stderr).toMatch(/b_synthetic_004-048-100\.wav: pitch 48, from the file name/);
    const files = (JSON.parse(r.stdout).files as { file: string; pitch: number }[]).map((f) => [
      path.basename(f.file),
      f.pitch,
    ]);
    expect(files).toEqual([
      ['a_synthetic_003-064-100-0.wav', 64],
      ['a_synthetic_003-064-100-1.wav', 64],
      ['b_synthetic_004-048-100-0.wav', 48],
      ['b_synthetic_004-048-100-1.wav', 48],
    ]);
  });

  it('output paths: DIR/ takes a note named after itself, a file in the way is named; --model as a file: URL; pad keeps its padded frame', async () => {
    const note = path.join(tmp, 'paths_synthetic_005-060-100.wav');
    fs.writeFileSync(note, encodeWav(Float32Array.from({ length: 2148 }, (_, t) => 0.3 * Math.sin(t / 7))));
    const model = path.join(tmp, 'paths-model');
    await run('init', '--config', 'tiny_pitch', '--out', model);
    const into = path.join(tmp, 'embeddings-dir') + path.sep;
    await run('encode', note, '--model', model, '--out', into);
    expect(fs.existsSync(path.join(into, 'paths_synthetic_005-060-100.npy'))).toBe(true);
    await run('generate', '--model', model, '--input', note, '--out', into, '--quiet');
    expect(readWav16k(path.join(into, 'paths_synthetic_005-060-100.wav')).length).toBe(2048);
    const blocker = path.join(tmp, 'a-file.wav');
    fs.writeFileSync(blocker, 'x');
    const blocked = await nsynth(['encode', note, '--model', model, '--out', path.join(blocker, 'e.npy')]);
    expect(blocked.status).toBe(1);
    expect(blocked.stderr).toContain(`${blocker} is a file, not a folder`);
    // --model given as a file: URL (loadWeights reads URLs) and a note shorter than --seconds under
    // --length-policy pad: its 5 frames, the last padded, as without --seconds.
    const out = path.join(tmp, 'paths-recon.wav');
    const url = pathToFileURL(model).href;
    await run(
      'reconstruct',
      note,
      '--model',
      url,
      '--out',
      out,
      '--seconds',
      '10',
      '--length-policy',
      'pad',
      '--quiet',
    );
    expect(readWav16k(out).length).toBe(2560);
    await run('reconstruct', note, '--model', url, '--out', out, '--length-policy', 'pad', '--quiet');
    expect(readWav16k(out).length).toBe(2560);
  });

  it('Ctrl-C during generate says it is cancelling, stops, writes nothing and exits 130', async () => {
    const out = path.join(tmp, 'cancelled.wav');
    const wav = path.join(tmp, 'note3.wav');
    fs.writeFileSync(wav, encodeWav(Float32Array.from({ length: 2048 }, (_, t) => 0.3 * Math.sin(t / 5))));
    const child = spawn(
      process.execPath,
      [BIN, 'generate', '--model', 'random:tiny', '--input', wav, '--seconds', '600', '--out', out, '--quiet'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Well into the generation (600 s of audio: far from done), past a cold machine's kernel compiles.
    await new Promise((r) => setTimeout(r, 12000));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/cancelling/);
    expect(stderr).toMatch(/cancelled; nothing was written/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('cancelled'))).toEqual([]);
  });

  it('bad input exits 1 with a message naming the file', async () => {
    const r = await nsynth([
      'encode',
      path.join(tmp, 'absent.wav'),
      '--model',
      'random:tiny',
      '--out',
      path.join(tmp, 'x.npy'),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/nsynth: .*absent\.wav: cannot read \(ENOENT\)/);
    // Absurd values are refused with the accepted range, before any work.
    const gen = [
      'generate',
      '--model',
      'random:tiny',
      '--embedding',
      path.join(tmp, 'none.npy'),
      '--out',
      path.join(tmp, 'z.wav'),
    ];
    for (const [args, message] of [
      [[...gen, '--batch', '0'], /--batch must be an integer from 1 to 4096, got "0"/],
      [[...gen, '--batch', '100000'], /--batch must be an integer from 1 to 4096, got "100000"/],
      [[...gen, '--seconds', '1e9'], /--seconds must be a number above 0 and at most 3600, got "1e9"/],
      [[...gen, '--seconds', 'NaN'], /--seconds must be a number above 0/],
      [[...gen, '--seed', '-1'], /--seed must be an integer from 0 to 4294967295, got "-1"/],
      [[...gen, '--seed', '4294967296'], /--seed must be an integer from 0 to 4294967295/],
      [
        ['synth-data', '--notes', '-3', '--out', path.join(tmp, 'sd')],
        /--notes must be an integer of at least 1, got "-3"/,
      ],
      [['synth-data', '--seconds', '0', '--out', path.join(tmp, 'sd')], /--seconds must be a number above 0/],
      [['bench', 'train', '--steps', '0'], /--steps must be an integer of at least 1, got "0"/],
      [['bench', 'generate', '--seconds', '-1'], /--seconds must be a number above 0/],
      [['bench', 'generate', '--fused-shape', '7x3'], /--fused-shape must be outputs x split .*got "7x3"/],
      [['bench', 'generate', '--fused-shape', '16x16', '--path', 'layered'], /cannot go with --path layered/],
      [['bench', 'generate', '--browser', '--profile'], /--profile times dispatches in Node/],
      [
        ['bench', 'generate', '--config', 'tiny', '--fused-shape', '64x4', '--batch', '1', '--seconds', '0.032'],
        /fused shape C4 16: must divide R\/4 \(8\)/,
      ],
    ] as const) {
      const r = await nsynth([...args]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    fs.writeFileSync(path.join(tmp, 'q.wav'), encodeWav(new Float32Array(1024)));
    const pitchless = await nsynth([
      'generate',
      '--model',
      'random:tiny',
      '--input',
      path.join(tmp, 'q.wav'),
      '--pitch',
      '60',
      '--out',
      path.join(tmp, 'q-out.wav'),
    ]);
    expect(pitchless.status).toBe(1);
    expect(pitchless.stderr).toMatch(/--pitch 60: config tiny is not pitch-conditioned/);
    expect(fs.existsSync(path.join(tmp, 'sd'))).toBe(false);
    const r2 = await nsynth(['init', '--config', 'huge', '--out', path.join(tmp, 'y')]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/Unknown config "huge"/);
    expect(fs.existsSync(path.join(tmp, 'x.npy'))).toBe(false);
  });
});
