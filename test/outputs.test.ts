// Nothing of a user's is lost: an output folder is replaced only if it is one of ours, and a
// training run's folder is neither overwritten by a new run nor wiped by a resume that cannot load it.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nsynth, nsynthOk } from './cli-run.js';
import { testEngine } from './helpers.js';
import { MICRO } from './micro-config.js';
import { whyNotReplaceable } from '../src/formats/output-folder.js';
import { writeFilesAtomic } from '../src/formats/atomic-write.js';
import { encodeWav } from '../src/formats/wav.js';
import { writeWeightsDir, readWeightsDir } from '../src/formats/weights-node.js';
import { initWeights } from '../src/model/weights.js';
import { getConfig } from '../src/model/config.js';
import { JsonWavSource } from '../src/dataset/nsynth.js';
import { writeSyntheticDataset } from '../src/dataset/synthetic-notes.js';
import { listCheckpoints, loadLatestCheckpoint } from '../src/train/checkpoint.js';
import { train } from '../src/train/trainer.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-outputs-'));

/** Every file under `dir` with its bytes, for before/after comparisons. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const f = path.join(e.parentPath, e.name);
    out.set(path.relative(dir, f), fs.readFileSync(f).toString('base64'));
  }
  return out;
}

describe('output folders', () => {
  const model = path.join(tmp, 'tiny');
  writeWeightsDir(model, initWeights(getConfig('tiny'), 1), 'f16');

  it('only an absent or empty folder, or a model folder of ours, may be replaced', () => {
    expect(whyNotReplaceable(path.join(tmp, 'absent'))).toBeNull();
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    expect(whyNotReplaceable(empty)).toBeNull();
    expect(whyNotReplaceable(model)).toBeNull();
    const mixed = path.join(tmp, 'mixed');
    writeWeightsDir(mixed, initWeights(getConfig('tiny'), 2));
    fs.writeFileSync(path.join(mixed, 'notes.md'), 'mine');
    expect(whyNotReplaceable(mixed)).toMatch(/holds notes\.md, which nsynth did not write/);
    const foreign = path.join(tmp, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'manifest.json'), '{"name": "a web app"}');
    expect(whyNotReplaceable(foreign)).toMatch(/not a model folder written by nsynth \(it holds manifest\.json\)/);
    fs.writeFileSync(path.join(tmp, 'file'), 'x');
    expect(whyNotReplaceable(path.join(tmp, 'file'))).toMatch(/is not a folder/);
  });

  it('`convert --out` and `init --out` refuse an unrelated folder and leave it as it was; ours are replaced', async () => {
    const precious = path.join(tmp, 'precious');
    fs.mkdirSync(precious);
    fs.writeFileSync(path.join(precious, 'thesis.txt'), 'four years of work');
    for (const args of [
      ['convert', model, '--out', precious],
      ['convert', model, '--to', 'tfjs', '--out', precious],
      ['init', '--config', 'tiny', '--out', precious],
    ]) {
      const r = await nsynth(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/precious exists and is not a model folder written by nsynth \(it holds thesis\.txt\)/);
      expect(fs.readdirSync(precious)).toEqual(['thesis.txt']);
      expect(fs.readFileSync(path.join(precious, 'thesis.txt'), 'utf8')).toBe('four years of work');
    }
    // No temporary folder was left beside it either.
    expect(fs.readdirSync(tmp).filter((n) => n.includes('.tmp'))).toEqual([]);
    // What a killed conversion leaves beside its target (a temporary of a process that is gone) is swept.
    const stale = path.join(tmp, '.converted.tmp-999999999');
    fs.mkdirSync(stale);
    fs.writeFileSync(path.join(stale, 'weights.bin'), 'partial');
    // A converted folder (ours) is replaced by the next conversion, in either format.
    const converted = path.join(tmp, 'converted');
    await nsynthOk(['convert', model, '--out', converted, '--quiet']);
    await nsynthOk(['convert', model, '--out', converted, '--dtype', 'f16', '--quiet']);
    expect(readWeightsDir(converted).config.name).toBe('tiny');
    expect(fs.existsSync(stale)).toBe(false);
    const exported = path.join(tmp, 'exported');
    await nsynthOk(['convert', model, '--to', 'tfjs', '--out', exported, '--quiet']);
    await nsynthOk(['convert', model, '--to', 'tfjs', '--out', exported, '--quiet']);
    expect(fs.existsSync(path.join(exported, 'model.json'))).toBe(true);
  });
});

describe('output files', () => {
  it('a batch of files is written whole or not at all, leaving no temporary behind', () => {
    const dir = path.join(tmp, 'batch');
    fs.mkdirSync(path.join(dir, 'v-1.wav'), { recursive: true }); // a folder where voice 1 should go
    const files = [0, 1, 2].map((i) => ({ file: path.join(dir, `v-${i}.wav`), data: `voice ${i}` }));
    expect(() => writeFilesAtomic(files)).toThrow(/v-1\.wav: is a folder/);
    expect(fs.readdirSync(dir)).toEqual(['v-1.wav']);
    fs.rmdirSync(path.join(dir, 'v-1.wav'));
    writeFilesAtomic(files);
    expect(fs.readdirSync(dir).sort()).toEqual(['v-0.wav', 'v-1.wav', 'v-2.wav']);
  });

  it('`generate` checks its outputs before generating: a missing folder is made, a folder as --out is refused', async () => {
    const common = [
      '--model',
      'random:tiny',
      '--embedding',
      path.join(tmp, 'emb.npy'),
      '--seconds',
      '0.032',
      '--quiet',
    ];
    await nsynthOk([
      'encode',
      path.join(tmp, 'tone.wav'),
      '--model',
      'random:tiny',
      '--out',
      path.join(tmp, 'emb.npy'),
    ]);
    const nested = path.join(tmp, 'new', 'deeper', 'x.wav');
    await nsynthOk(['generate', ...common, '--out', nested]);
    expect(fs.statSync(nested).size).toBeGreaterThan(44);
    const folder = path.join(tmp, 'a-folder');
    fs.mkdirSync(folder);
    const r = await nsynth(['generate', ...common, '--out', folder]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/a-folder: is a folder/);
    expect(r.stderr).not.toMatch(/generating/);
    expect(fs.readdirSync(tmp).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('training run folders', () => {
  const data = path.join(tmp, 'data');
  writeSyntheticDataset(data, { notes: 6, seed: 3, samples: 1000, pitchMin: 55, pitchMax: 65 });
  const options = (out: string, steps: number) => ({
    config: MICRO,
    source: new JsonWavSource(data),
    steps,
    out,
    batch: 1,
    crop: 64,
    checkpointEvery: 2,
    logEvery: 100,
    evalEvery: 100,
  });

  it('a new run in a folder that holds one is refused unless --overwrite, which starts it cleanly', async () => {
    const e = await testEngine();
    const out = path.join(tmp, 'run');
    await train(e, options(out, 6));
    const before = snapshot(out);
    await expect(train(e, options(out, 4))).rejects.toThrow(
      /already holds a training run \(2 checkpoint\(s\), the newest at step 6\); pass --resume to continue it, or --overwrite/,
    );
    expect(snapshot(out)).toEqual(before);
    await expect(train(e, { ...options(out, 4), resume: true, overwrite: true })).rejects.toThrow(/exclude each other/);
    // --overwrite: the old checkpoints go first, so retention keeps the new ones and latest.json names one.
    const r = await train(e, { ...options(out, 4), overwrite: true });
    expect(r.step).toBe(4);
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([2, 4]);
    expect(loadLatestCheckpoint(out)!.state.step).toBe(4);
    // Through the CLI too, with the flags named.
    const cli = await nsynth([
      'train',
      '--config',
      path.join(tmp, 'micro.json'),
      '--data',
      data,
      '--steps',
      '2',
      '--crop',
      '64',
      '--out',
      out,
      '--quiet',
    ]);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/already holds a training run .* --resume .* --overwrite/);
  });

  it('--resume where no checkpoint loads stops with an error and deletes nothing', async () => {
    const e = await testEngine();
    const out = path.join(tmp, 'damaged');
    await train(e, options(out, 4));
    for (const c of listCheckpoints(out)) {
      const dir = path.join(out, 'checkpoints', c.dir);
      for (const f of fs.readdirSync(dir, { recursive: true, withFileTypes: true }))
        if (f.isFile()) fs.truncateSync(path.join(f.parentPath, f.name), 10);
    }
    const before = snapshot(out);
    await expect(train(e, { ...options(out, 8), resume: true })).rejects.toThrow(
      /checkpoints: no checkpoint loads \(.*\); nothing was changed/,
    );
    expect(snapshot(out)).toEqual(before);
  });
});

fs.writeFileSync(path.join(tmp, 'micro.json'), JSON.stringify(MICRO));
fs.writeFileSync(
  path.join(tmp, 'tone.wav'),
  encodeWav(Float32Array.from({ length: 2048 }, (_, t) => 0.4 * Math.sin(t / 9))),
);
