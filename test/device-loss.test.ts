// A device lost mid-work (simulated with device.destroy(), as a GPU reset or a tab's lost context
// would): the call rejects with an error naming device loss, nothing hangs, a new engine works in
// the same process, and training resumes from its last checkpoint.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../src/gpu/engine.js';
import { lanesSupported } from '../src/gpu/lanes.js';
import { modelFromWeights } from '../src/nsynth.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { JsonWavSource } from '../src/dataset/nsynth.js';
import { writeSyntheticDataset } from '../src/dataset/synthetic-notes.js';
import { loadLatestCheckpoint } from '../src/train/checkpoint.js';
import { train } from '../src/train/trainer.js';
import { MICRO } from './micro-config.js';
import { note } from './generate-helpers.js';

const LOST = /WebGPU device lost \(destroyed.*\); create a new engine to continue/;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-device-loss-'));

describe('device loss', () => {
  it('mid-generation and mid-stream: the call rejects naming the loss; a new engine generates', async () => {
    const probe = await createEngine();
    const paths = ['layered', ...(lanesSupported(probe) ? (['voice-lanes'] as const) : [])] as const;
    probe.destroy();
    for (const path of paths) {
      const e = await createEngine();
      const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 5));
      const emb = await model.encode(note(1, 8192));
      let calls = 0;
      await expect(
        model.generate(emb, { path, stepsPerSubmit: 64, onProgress: () => calls++ === 0 && e.device.destroy() }),
      ).rejects.toThrow(LOST);
      // a stream the same way: the loop's next chunk rejects
      const e2 = await createEngine();
      const m2 = await modelFromWeights(e2, initWeights(getConfig('tiny'), 5));
      const emb2 = await m2.encode(note(1, 8192));
      await expect(
        (async () => {
          for await (const c of m2.stream(emb2, { path, chunkSize: 1024, firstChunkSize: 1024 })) {
            void c;
            e2.device.destroy();
          }
        })(),
      ).rejects.toThrow(LOST);
    }
    // The same process goes on with a new engine, and gives the audio an undisturbed run gives.
    const fresh = await createEngine();
    const m = await modelFromWeights(fresh, initWeights(getConfig('tiny'), 5));
    const emb = await m.encode(note(1, 2048));
    const a = await m.generate(emb, { seed: 2 });
    expect(await m.generate(emb, { seed: 2 })).toEqual(a);
    fresh.destroy();
  });

  it('a model used after its engine was destroyed says so, instead of an empty AbortError', async () => {
    const e = await createEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 5));
    const emb = await model.encode(note(3, 1024));
    e.destroy();
    const destroyed = /this engine was destroyed \(engine\.destroy\(\)\): create a new one with createEngine\(\)/;
    await expect(model.generate(emb)).rejects.toThrow(destroyed);
    await expect(model.encode(note(3, 1024))).rejects.toThrow(destroyed);
    await expect(model.teacherForcedLogits(note(3, 1024), emb)).rejects.toThrow(destroyed);
    // Destroyed while a generation runs: the call says so too (it was an empty AbortError).
    const e2 = await createEngine();
    const model2 = await modelFromWeights(e2, initWeights(getConfig('tiny'), 5));
    const long = await model2.encode(note(3, 16384));
    await expect(
      model2.generate(long, { path: 'layered', chunkSize: 512, onProgress: () => e2.destroy() }),
    ).rejects.toThrow(/this engine was destroyed \(engine\.destroy\(\)\) while the call ran/);
  });

  it('mid-training: train rejects naming the loss; a new engine resumes from the last checkpoint', async () => {
    const data = path.join(tmp, 'data');
    writeSyntheticDataset(data, { notes: 6, seed: 4, samples: 1000, pitchMin: 55, pitchMax: 65 });
    const out = path.join(tmp, 'run');
    const options = {
      config: MICRO,
      steps: 8,
      out,
      batch: 1,
      crop: 64,
      checkpointEvery: 1,
      logEvery: 100,
      evalEvery: 100,
    };
    const e = await createEngine();
    await expect(
      train(e, {
        ...options,
        source: new JsonWavSource(data),
        onStep: (s) => {
          if (s.step === 3) e.device.destroy();
        },
      }),
    ).rejects.toThrow(LOST);
    const saved = loadLatestCheckpoint(out)!.state.step;
    expect(saved).toBeGreaterThanOrEqual(2);
    const e2 = await createEngine();
    const r = await train(e2, { ...options, source: new JsonWavSource(data), resume: true });
    expect(r.startStep).toBe(saved);
    expect(r.step).toBe(8);
    e2.destroy();
  });
});
