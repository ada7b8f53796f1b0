// Training behaviour: over-fitting one short note, bit-exact resume, checkpoints that survive a
// crash mid-write (simulated and real SIGKILL), and the `nsynth train` CLI.
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testEngine } from './helpers.js';
import type { Engine } from '../src/gpu/engine.js';
import { BIN, nsynth, nsynthOk } from './cli-run.js';
import { MICRO, MICRO_PITCH } from './micro-config.js';
import { train, type TrainOptions } from '../src/train/trainer.js';
import { JsonWavSource } from '../src/dataset/nsynth.js';
import { writeSyntheticDataset } from '../src/dataset/synthetic-notes.js';
import { readWeightsDir } from '../src/formats/weights-node.js';
import { getConfig } from '../src/model/config.js';
import { BASELINE_CONFIGS } from '../src/model/baseline-config.js';
import {
  loadLatestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  sweepTemporary,
  writeCheckpoint,
  checkpointsDir,
} from '../src/train/checkpoint.js';
import { type AnyConfig, initWeights, type Weights } from '../src/model/weights.js';
import { learningRate } from '../src/train/schedule.js';
import { embeddingDropoutOf } from '../src/train/data.js';
import { encodeExample } from '../src/dataset/tf-example.js';
import { encodeTfRecords } from '../src/dataset/tfrecord.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-train-'));
const data = path.join(tmp, 'data');
writeSyntheticDataset(data, { notes: 12, seed: 2, samples: 2000, pitchMin: 50, pitchMax: 70 });
const microJson = path.join(tmp, 'micro.json');
fs.writeFileSync(microJson, JSON.stringify(MICRO));

function expectSameWeights(a: Weights<AnyConfig>, b: Weights<AnyConfig>): void {
  for (const [name, t] of a.tensors) expect(b.get(name).data, name).toEqual(t.data);
}

/**
 * Trains `o` for 6 steps straight (in tmp/NAME-straight) and as 3 steps then 3 more resumed
 * (tmp/NAME-split), expects the same weights bit for bit, and returns the straight run and the split folder.
 */
async function expectResumesBitForBit(
  e: Engine,
  o: Omit<TrainOptions, 'source' | 'steps' | 'out'>,
  name: string,
): Promise<{ straight: Awaited<ReturnType<typeof train>>; split: string }> {
  const straight = await train(e, {
    ...o,
    source: new JsonWavSource(data),
    steps: 6,
    out: path.join(tmp, `${name}-straight`),
  });
  const split = path.join(tmp, `${name}-split`);
  await train(e, { ...o, source: new JsonWavSource(data), steps: 3, out: split });
  const resumed = await train(e, { ...o, source: new JsonWavSource(data), steps: 6, out: split, resume: true });
  expectSameWeights(straight.weights, resumed.weights);
  return { straight, split };
}

describe('learning-rate schedule', () => {
  it("is Magenta's piecewise-constant schedule, stretchable and scalable", () => {
    expect([0, 89999, 90000, 120000, 150000, 180000, 199999].map((s) => learningRate(s))).toEqual([
      2e-4,
      2e-4,
      4e-4 / 3,
      6e-5,
      4e-5,
      2e-5,
      2e-5,
    ]);
    expect(learningRate(450, 1000)).toBe(4e-4 / 3); // 450/1000 of 200k = 90k
    expect(learningRate(0, 1000, 5)).toBeCloseTo(1e-3, 12);
  });
});

describe('training', () => {
  it('tiny over-fits one short note: the loss falls by more than half in 60 steps (lr 2e-3)', async () => {
    const e = await testEngine();
    const one = path.join(tmp, 'one');
    writeSyntheticDataset(one, { notes: 1, seed: 5, samples: 512, kinds: ['keyboard'], pitchMin: 60, pitchMax: 60 });
    const losses: number[] = [];
    const r = await train(e, {
      config: getConfig('tiny'),
      source: new JsonWavSource(one),
      steps: 60,
      out: path.join(tmp, 'overfit'),
      batch: 1,
      crop: 512,
      lrScale: 10,
      evalFraction: 0,
      checkpointEvery: 1000,
      logEvery: 1000,
      onStep: (s) => losses.push(s.loss),
    });
    const first = losses[0];
    const last = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(first).toBeGreaterThan(5); // ~ln 256 at initialisation
    expect(last, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`).toBeLessThan(first / 2);
    expect(r.step).toBe(60);
  });

  it('a resumed run gives the same weights, EMA and Adam state as an uninterrupted one, bit for bit', async () => {
    const e = await testEngine();
    const common = {
      config: MICRO,
      batch: 2,
      crop: 64,
      seed: 7,
      lrScale: 10,
      checkpointEvery: 5,
      logEvery: 1000,
      evalFraction: 0.2,
      evalEvery: 4,
    };
    const straight = await train(e, {
      ...common,
      source: new JsonWavSource(data),
      steps: 12,
      out: path.join(tmp, 'straight'),
    });
    const split = path.join(tmp, 'split');
    const part = await train(e, { ...common, source: new JsonWavSource(data), steps: 7, out: split });
    expect(part.step).toBe(7);
    const resumed = await train(e, { ...common, source: new JsonWavSource(data), steps: 12, out: split, resume: true });
    expect(resumed.startStep).toBe(7);
    expectSameWeights(straight.weights, resumed.weights);
    expectSameWeights(straight.ema, resumed.ema);
    const a = loadLatestCheckpoint(path.join(tmp, 'straight'))!;
    const b = loadLatestCheckpoint(split)!;
    expect(b.state.step).toBe(12);
    expectSameWeights(a.m, b.m);
    expectSameWeights(a.v, b.v);
    expect(b.state.sampler).toEqual(a.state.sampler);
    // The weights changed, and resuming with different trajectory options is refused.
    expect(straight.weights.get('logits/W').data).not.toEqual(initWeights(MICRO, 7).get('logits/W').data);
    await expect(
      train(e, { ...common, lrScale: 3, source: new JsonWavSource(data), steps: 14, out: split, resume: true }),
    ).rejects.toThrow(/lrScale = 10, this run has 3/);

    // A recipe changed on purpose: refused without changeOptions, reported and recorded with it.
    await expect(
      train(e, { ...common, minCropRms: 0.01, source: new JsonWavSource(data), steps: 14, out: split, resume: true }),
    ).rejects.toThrow(/minCropRms = 0, this run has 0.01 .*--change-options/);
    const said: string[] = [];
    const changed = await train(e, {
      ...common,
      minCropRms: 0.01,
      changeOptions: true,
      source: new JsonWavSource(data),
      steps: 14,
      out: split,
      resume: true,
      onInfo: (m) => said.push(m),
    });
    expect(changed.startStep).toBe(12);
    expect(said).toContain("changed from the checkpoint's recipe at step 12: minCropRms 0 -> 0.01");
    expect(loadLatestCheckpoint(split)!.state.run.minCropRms).toBe(0.01);
    expect(loadLatestCheckpoint(split)!.state.recipeChanges).toEqual([
      { step: 12, option: 'minCropRms', from: 0, to: 0.01 },
    ]);
    // The seed fixes the data order: not even --change-options changes it.
    await expect(
      train(e, {
        ...common,
        seed: 8,
        minCropRms: 0.01,
        changeOptions: true,
        source: new JsonWavSource(data),
        steps: 16,
        out: split,
        resume: true,
      }),
    ).rejects.toThrow(/seed = 7, this run has 8 .*cannot change within a run/);
    await expect(
      train(e, { ...common, source: new JsonWavSource(data), steps: 16, out: split, resume: true }),
    ).rejects.toThrow(/minCropRms = 0.01, this run has 0/);
    // A checkpoint written before the option existed resumes with its old behaviour (uniform crops).
    const old = path.join(checkpointsDir(path.join(tmp, 'straight')), 'ckpt-00000012', 'state.json');
    const state = JSON.parse(fs.readFileSync(old, 'utf8'));
    delete state.run.minCropRms;
    delete state.run.inputNoise;
    delete state.run.scheduledSampling;
    delete state.run.embeddingDropout;
    fs.writeFileSync(old, JSON.stringify(state));
    const continued = await train(e, {
      ...common,
      source: new JsonWavSource(data),
      steps: 13,
      out: path.join(tmp, 'straight'),
      resume: true,
    });
    expect(continued.startStep).toBe(12);
    expect(loadLatestCheckpoint(path.join(tmp, 'straight'))!.state.run).toMatchObject({
      minCropRms: 0,
      inputNoise: 0,
      scheduledSampling: 0,
      embeddingDropout: 0,
    });
    await expect(
      train(e, { ...common, changeOptions: true, source: new JsonWavSource(data), steps: 1, out: path.join(tmp, 'x') }),
    ).rejects.toThrow(/changeOptions applies to a resumed run/);
    await expect(
      train(e, {
        ...common,
        config: BASELINE_CONFIGS.baseline_micro,
        crop: BASELINE_CONFIGS.baseline_micro.samples, // a valid baseline run but for the noise
        inputNoise: 3,
        source: new JsonWavSource(data),
        steps: 1,
        out: path.join(tmp, 'x'),
      }),
    ).rejects.toThrow(/no autoregressive input: input noise and scheduled sampling apply to WaveNet configs/);
    expect(fs.existsSync(path.join(tmp, 'x'))).toBe(false);
  });

  it('with --min-crop-rms, --input-noise, --scheduled-sampling and --onset-crops a resumed run still gives the uninterrupted one, bit for bit', async () => {
    const e = await testEngine();
    const common = {
      config: MICRO,
      batch: 2,
      crop: 64,
      seed: 3,
      lrScale: 10,
      checkpointEvery: 3,
      logEvery: 1000,
      evalFraction: 0,
      minCropRms: 0.05,
      inputNoise: 2,
    };
    const { straight } = await expectResumesBitForBit(e, common, 'n');
    const clean = await train(e, {
      ...common,
      inputNoise: 0,
      source: new JsonWavSource(data),
      steps: 6,
      out: path.join(tmp, 'n-clean'),
    });
    // The noise did reach the decoder: the same run without it ends elsewhere.
    expect(clean.weights.get('logits/W').data).not.toEqual(straight.weights.get('logits/W').data);

    // Scheduled sampling's draws (from the model's own logits, one more forward pass) resume bit for bit too.
    const sampled = await expectResumesBitForBit(e, { ...common, scheduledSampling: 0.5 }, 's');
    const [sampledStraight, sampledSplit] = [sampled.straight, sampled.split];
    expect(sampledStraight.weights.get('logits/W').data).not.toEqual(straight.weights.get('logits/W').data);
    expect(loadLatestCheckpoint(sampledSplit)!.state.run.scheduledSampling).toBe(0.5);

    // Onset crops (the sampler's extra draw, in its saved state) resume bit for bit and are recorded.
    const onsets = await expectResumesBitForBit(e, { ...common, onsetCrops: 0.5 }, 'o');
    expect(onsets.straight.weights.get('logits/W').data).not.toEqual(straight.weights.get('logits/W').data);
    expect(loadLatestCheckpoint(onsets.split)!.state.run.onsetCrops).toBe(0.5);
  });

  it('--embedding-dropout: some crops train on their pitch alone; a resumed run gives the uninterrupted one, bit for bit', async () => {
    // Its draws: about the given fraction of items, the same for the same (seed, step).
    const draws = Array.from({ length: 400 }, (_, step) => embeddingDropoutOf(4, 0.25, 1, step)).flat();
    const fraction = draws.filter(Boolean).length / draws.length;
    expect(fraction).toBeGreaterThan(0.2);
    expect(fraction).toBeLessThan(0.3);
    expect(embeddingDropoutOf(8, 0.5, 2, 9)).toEqual(embeddingDropoutOf(8, 0.5, 2, 9));
    expect(embeddingDropoutOf(64, 0.5, 2, 9)).not.toEqual(embeddingDropoutOf(64, 0.5, 2, 10));
    expect(embeddingDropoutOf(16, 0, 2, 9).some(Boolean)).toBe(false);

    const e = await testEngine();
    const common = {
      config: MICRO_PITCH,
      batch: 2,
      crop: 64,
      seed: 3,
      lrScale: 10,
      checkpointEvery: 3,
      logEvery: 1000,
      evalFraction: 0,
      embeddingDropout: 0.5,
    };
    const { straight, split } = await expectResumesBitForBit(e, common, 'd');
    expect(loadLatestCheckpoint(split)!.state.run.embeddingDropout).toBe(0.5);
    const kept = await train(e, {
      ...common,
      embeddingDropout: 0,
      source: new JsonWavSource(data),
      steps: 6,
      out: path.join(tmp, 'd-kept'),
    });
    // The dropout reached the decoder: the same run without it ends elsewhere.
    expect(kept.weights.get('logits/W').data).not.toEqual(straight.weights.get('logits/W').data);
    // Nothing to fall back on without a pitch input: refused before anything is written.
    await expect(
      train(e, { ...common, config: MICRO, source: new JsonWavSource(data), steps: 1, out: path.join(tmp, 'd-x') }),
    ).rejects.toThrow(/embeddingDropout needs a pitch-conditioned WaveNet/);
    expect(fs.existsSync(path.join(tmp, 'd-x'))).toBe(false);
  });

  it('evaluates on a separate validation set (--eval-data), training on every note, and logs wall time over sittings', async () => {
    const e = await testEngine();
    const valid = path.join(tmp, 'valid-notes');
    writeSyntheticDataset(valid, { notes: 4, seed: 9, samples: 2000, pitchMin: 55, pitchMax: 65 });
    const logs: { step: number; evalLoss?: number; seconds: number }[] = [];
    const infos: string[] = [];
    const common = {
      config: MICRO,
      batch: 1,
      crop: 64,
      evalEvery: 2,
      logEvery: 100,
      checkpointEvery: 2,
      out: path.join(tmp, 'eval-data'),
      onLog: (r: { step: number; evalLoss?: number; seconds: number }) => logs.push(r),
      onInfo: (m: string) => infos.push(m),
    };
    await train(e, { ...common, source: new JsonWavSource(data), evalSource: new JsonWavSource(valid), steps: 2 });
    expect(infos.join('\n')).toMatch(/12 training notes from .*; evaluating on 4 notes of /);
    const r = await train(e, {
      ...common,
      source: new JsonWavSource(data),
      evalSource: new JsonWavSource(valid),
      steps: 4,
      resume: true,
    });
    expect(r.evalLoss).toBeGreaterThan(0);
    expect(logs.map((l) => l.step)).toEqual([2, 4]);
    expect(logs[0].evalLoss).toBeGreaterThan(0);
    // The second sitting's clock continues from the first's.
    expect(logs[1].seconds).toBeGreaterThan(logs[0].seconds);
    expect(loadLatestCheckpoint(common.out)!.state.trainSeconds).toBeGreaterThanOrEqual(logs[1].seconds);
    // Resuming without --eval-data would train on other notes (12 minus the held-out instruments): refused.
    await expect(
      train(e, { ...common, source: new JsonWavSource(data), evalFraction: 0.3, steps: 6, resume: true }),
    ).rejects.toThrow(/trained on 12 notes, this run selects \d+/);
  });

  it('a pitch-conditioned config logs evalPitchUse: the eval loss with the pitch an octave away, minus the eval loss', async () => {
    const e = await testEngine();
    const valid = path.join(tmp, 'valid-pitch');
    writeSyntheticDataset(valid, { notes: 3, seed: 4, samples: 2000, pitchMin: 50, pitchMax: 70 });
    const logs: { step: number; evalLoss?: number; evalPitchUse?: number }[] = [];
    const run = (config: typeof MICRO, out: string) =>
      train(e, {
        config,
        batch: 1,
        crop: 64,
        evalEvery: 2,
        logEvery: 100,
        checkpointEvery: 100,
        steps: 2,
        out: path.join(tmp, out),
        source: new JsonWavSource(data),
        evalSource: new JsonWavSource(valid),
        onLog: (r) => logs.push(r),
      });
    await run(MICRO_PITCH, 'pitch-use');
    expect(logs).toHaveLength(1);
    expect(Number.isFinite(logs[0].evalPitchUse)).toBe(true);
    // A model with a pitch input depends on it (even a random one), so the difference is not exactly 0.
    expect(logs[0].evalPitchUse).not.toBe(0);
    await run(MICRO, 'no-pitch-use');
    expect(logs[1].evalLoss).toBeGreaterThan(0);
    expect(logs[1].evalPitchUse).toBeUndefined();
  });

  it('stops cleanly on abort, with a checkpoint of the last step', async () => {
    const e = await testEngine();
    const ac = new AbortController();
    const out = path.join(tmp, 'abort');
    const r = await train(e, {
      config: MICRO,
      source: new JsonWavSource(data),
      steps: 50,
      out,
      batch: 1,
      crop: 64,
      checkpointEvery: 100,
      signal: ac.signal,
      onStep: (s) => {
        if (s.step === 3) ac.abort();
      },
    });
    expect(r).toMatchObject({ step: 3, stopped: true });
    expect(loadLatestCheckpoint(out)!.state.step).toBe(3);
  });
});

describe('checkpoints survive a crash', () => {
  it('a crash at any point of a checkpoint write leaves the previous one loadable', () => {
    const out = path.join(tmp, 'crash');
    const w = initWeights(MICRO, 1);
    const ck = (step: number) => ({
      state: {
        format: 'nsynth-webgpu-checkpoint' as const,
        version: 1 as const,
        step,
        config: MICRO,
        sampler: { epoch: 0, position: step, rng: 1 },
        run: {
          batch: 1,
          crop: 64,
          seed: 0,
          lrScale: 1,
          scheduleLength: 200000,
          maxGradNorm: 0,
          emaDecay: 0.9999,
          minCropRms: 0,
          inputNoise: 0,
          scheduledSampling: 0,
          embeddingDropout: 0,
          onsetCrops: 0,
        },
        data: 'x',
        savedAt: '',
      },
      weights: w,
      ema: w,
      m: w,
      v: w,
    });
    writeCheckpoint(out, ck(5));
    for (const crashAfter of ['weights', 'adam-v', 'state.json']) {
      expect(() =>
        writeCheckpoint(out, ck(10), 2, {
          afterPart: (p) => {
            if (p === crashAfter) throw new Error('killed');
          },
        }),
      ).toThrow('killed');
      expect(loadLatestCheckpoint(out)!.state.step).toBe(5);
    }
    expect(sweepTemporary(out).length).toBeGreaterThan(0);
    expect(fs.readdirSync(checkpointsDir(out)).some((d) => d.startsWith('.tmp'))).toBe(false);
    // A damaged newest checkpoint is skipped for the one before, and the problem is reported.
    writeCheckpoint(out, ck(10));
    const bin = path.join(checkpointsDir(out), 'ckpt-00000010', 'ema', 'weights.bin');
    const bytes = fs.readFileSync(bin);
    bytes[100] ^= 0xff;
    fs.writeFileSync(bin, bytes);
    const problems: string[] = [];
    expect(loadLatestCheckpoint(out, problems)!.state.step).toBe(5);
    expect(problems.join('\n')).toMatch(/ema\/weights.bin: tensor .* fails its checksum/);
    expect(() => readCheckpoint(path.join(checkpointsDir(out), 'ckpt-00000010'))).toThrow(/fails its checksum/);
  });

  it('SIGKILL during `nsynth train` leaves a loadable checkpoint; --resume finishes with the uninterrupted result', async () => {
    const args = (out: string) => [
      'train',
      '--config',
      microJson,
      '--data',
      data,
      '--steps',
      '120',
      '--batch',
      '2',
      '--crop',
      '64',
      '--out',
      out,
      '--checkpoint-every',
      '1',
      '--seed',
      '3',
      '--lr-scale',
      '10',
      '--quiet',
    ];
    const reference = path.join(tmp, 'kill-ref');
    await nsynthOk(args(reference));
    const out = path.join(tmp, 'kill');
    for (const delayMs of [700, 1300]) {
      const child = spawn(process.execPath, [BIN, ...args(out), '--resume'], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      // Kill once a checkpoint exists (checkpoints are written every step, so most kills land mid-write).
      await new Promise<void>((resolve) => {
        const t0 = Date.now();
        const poll = setInterval(() => {
          if ((listCheckpoints(out).length > 0 && Date.now() - t0 > delayMs) || Date.now() - t0 > 60000) {
            clearInterval(poll);
            child.kill('SIGKILL');
            resolve();
          }
        }, 20);
      });
      await exited;
      const ck = loadLatestCheckpoint(out);
      expect(ck, 'a checkpoint loads after SIGKILL').not.toBeNull();
      expect(ck!.state.step).toBeGreaterThan(0);
    }
    await nsynthOk([...args(out), '--resume']);
    expectSameWeights(readWeightsDir(path.join(reference, 'weights')), readWeightsDir(path.join(out, 'weights')));
    expectSameWeights(readWeightsDir(path.join(reference, 'ema')), readWeightsDir(path.join(out, 'ema')));
  }, 240000);

  it('Ctrl-C (SIGINT) during `nsynth train` checkpoints the current step and exits 130, as interrupted', async () => {
    const out = path.join(tmp, 'sigint');
    const child = spawn(
      process.execPath,
      [
        BIN,
        'train',
        '--config',
        microJson,
        '--data',
        data,
        '--steps',
        '100000',
        '--crop',
        '64',
        '--out',
        out,
        '--checkpoint-every',
        '5',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (listCheckpoints(out).length > 0) {
          clearInterval(poll);
          child.kill('SIGINT');
          resolve();
        }
      }, 20);
    });
    expect(await exited).toBe(130);
    const m = /interrupted at step (\d+)/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    expect(loadLatestCheckpoint(out)!.state.step).toBe(Number(m![1]));
    expect(readWeightsDir(path.join(out, 'ema')).config.name).toBe('micro');
  }, 60000);

  it('trains from a TFRecord file with filters, and fine-tunes from --init weights', async () => {
    const src = new JsonWavSource(data);
    const records = src.notes.map((n, i) =>
      encodeExample({
        note_str: { kind: 'bytes', values: [new TextEncoder().encode(n.noteStr)] },
        pitch: { kind: 'int64', values: [n.pitch] },
        velocity: { kind: 'int64', values: [n.velocity] },
        instrument_family: { kind: 'int64', values: [n.family] },
        instrument_source: { kind: 'int64', values: [n.source] },
        audio: { kind: 'float', values: src.audio(i) },
      }),
    );
    const file = path.join(tmp, 'notes.tfrecord');
    fs.writeFileSync(file, encodeTfRecords(records));
    const first = path.join(tmp, 'tfrecord-run');
    const out = await nsynthOk([
      'train',
      '--config',
      microJson,
      '--data',
      file,
      '--steps',
      '3',
      '--crop',
      '64',
      '--out',
      first,
      '--families',
      'organ,keyboard,mallet',
      '--json',
    ]);
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).step),
    ).toEqual([3]);
    const tuned = path.join(tmp, 'fine-tuned');
    await nsynthOk([
      'train',
      '--config',
      microJson,
      '--data',
      data,
      '--steps',
      '2',
      '--crop',
      '64',
      '--out',
      tuned,
      '--init',
      path.join(first, 'weights'),
      '--lr-scale',
      '0.5',
      '--quiet',
    ]);
    const start = readWeightsDir(path.join(first, 'weights')).get('logits/W').data;
    const after = readWeightsDir(path.join(tuned, 'weights')).get('logits/W').data;
    let maxStep = 0;
    for (let i = 0; i < start.length; i++) maxStep = Math.max(maxStep, Math.abs(after[i] - start[i]));
    // Two Adam steps at lr 1e-4 move each weight by at most ~2e-4: fine-tuning started from --init.
    expect(maxStep).toBeGreaterThan(0);
    expect(maxStep).toBeLessThan(3e-4);
  });

  it('`nsynth train --json` prints one JSON line per logged step with the contract fields', async () => {
    const out = await nsynthOk([
      'train',
      '--config',
      microJson,
      '--data',
      data,
      '--steps',
      '6',
      '--crop',
      '64',
      '--out',
      path.join(tmp, 'json'),
      '--log-every',
      '2',
      '--eval-every',
      '3',
      '--json',
      '--quiet',
    ]);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([2, 3, 4, 6]);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(
        expect.arrayContaining(['step', 'loss', 'lr', 'samplesPerSecond', 'gradNorm', 'seconds']),
      );
      expect(l.loss).toBeGreaterThan(0);
      expect(l.lr).toBe(2e-4);
    }
    expect(lines[1].evalLoss).toBeGreaterThan(0);
    const missing = await nsynth([
      'train',
      '--config',
      'tiny',
      '--data',
      path.join(tmp, 'nope'),
      '--steps',
      '1',
      '--out',
      path.join(tmp, 'x'),
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope: no such file or folder/);
  });
});
