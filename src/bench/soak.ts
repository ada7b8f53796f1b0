// The soak: a long generation and a long training run on one engine, with the GPU buffers in use,
// the buffer pool and the process's memory sampled as they go. Someone running the engine for days
// needs these flat after warm-up; `nsynth bench soak` prints the samples and says whether they are.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Engine } from '../gpu/engine.js';
import { getConfig } from '../model/config.js';
import { loadModel, type NSynthModel, randomModel } from '../nsynth.js';
import { JsonWavSource } from '../dataset/nsynth.js';
import { writeSyntheticDataset } from '../dataset/synthetic-notes.js';
import { train } from '../train/trainer.js';

export interface SoakOptions {
  /** Weights folder of the generating model (null: a random model of `generateConfig`). */
  model: string | null;
  generateConfig: string;
  /** Seconds of audio generated (one voice). */
  seconds: number;
  trainConfig: string;
  steps: number;
  /** Samples taken over each phase (evenly spread). */
  samples: number;
  json: boolean;
}

export interface SoakSample {
  phase: 'generate' | 'train';
  /** Samples of audio done, or training steps done. */
  at: number;
  liveBuffers: number;
  liveMB: number;
  pooledBuffers: number;
  rssMB: number;
  heapMB: number;
}

export interface SoakPhase {
  phase: 'generate' | 'train';
  /** After the first quarter of the samples (warm-up: pipelines, the pool filling). */
  liveBuffersRange: [number, number];
  pooledBuffersRange: [number, number];
  rssGrowthMB: number;
  flat: boolean;
}

export interface SoakReport {
  adapter: string;
  samples: SoakSample[];
  phases: SoakPhase[];
}

/** RSS may wander by allocator noise; more than this after warm-up is growth. */
const RSS_TOLERANCE_MB = 64;

function sample(engine: Engine, phase: SoakSample['phase'], at: number): SoakSample {
  const pool = engine.pool.stats();
  const mem = process.memoryUsage();
  return {
    phase,
    at,
    liveBuffers: pool.live,
    liveMB: pool.liveBytes / 2 ** 20,
    pooledBuffers: pool.pooled,
    rssMB: mem.rss / 2 ** 20,
    heapMB: mem.heapUsed / 2 ** 20,
  };
}

function judge(phase: SoakSample['phase'], all: SoakSample[]): SoakPhase {
  const s = all.filter((x) => x.phase === phase);
  const settled = s.slice(Math.floor(s.length / 4));
  const range = (k: 'liveBuffers' | 'pooledBuffers'): [number, number] => [
    Math.min(...settled.map((x) => x[k])),
    Math.max(...settled.map((x) => x[k])),
  ];
  const live = range('liveBuffers');
  const pooled = range('pooledBuffers');
  const rssGrowthMB = settled.length ? settled[settled.length - 1].rssMB - settled[0].rssMB : 0;
  return {
    phase,
    liveBuffersRange: live,
    pooledBuffersRange: pooled,
    rssGrowthMB,
    flat: live[0] === live[1] && pooled[0] === pooled[1] && rssGrowthMB <= RSS_TOLERANCE_MB,
  };
}

export async function runSoak(engine: Engine, o: SoakOptions): Promise<SoakReport> {
  if (!(o.seconds > 0) || !(o.steps >= 1) || !(o.samples >= 2))
    throw new Error('soak: seconds and steps must be positive and samples at least 2');
  const samples: SoakSample[] = [];

  // Generation: one voice streamed, sampled at evenly spread chunk ends.
  const model: NSynthModel = o.model
    ? await loadModel(engine, o.model)
    : await randomModel(engine, getConfig(o.generateConfig), 1);
  try {
    const c = model.config;
    const frames = Math.max(1, Math.round((o.seconds * c.sampleRate) / c.hop));
    const emb = {
      data: Float32Array.from({ length: frames * c.bottleneck }, (_, i) => Math.sin(i / 7) * 0.5),
      shape: [frames, c.bottleneck],
    };
    const total = frames * c.hop;
    const chunkSize = Math.max(64, Math.ceil(total / o.samples));
    for await (const chunk of model.stream(emb, { seed: 1, chunkSize, firstChunkSize: chunkSize, pitch: 60 }))
      samples.push(sample(engine, 'generate', chunk.end));
  } finally {
    model.dispose();
  }

  // Training: a small config on synthetic notes, sampled every steps/samples steps.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-soak-'));
  try {
    writeSyntheticDataset(path.join(dir, 'data'), { notes: 16, seed: 1, samples: 4000 });
    const every = Math.max(1, Math.floor(o.steps / o.samples));
    await train(engine, {
      config: getConfig(o.trainConfig),
      source: new JsonWavSource(path.join(dir, 'data')),
      steps: o.steps,
      out: path.join(dir, 'run'),
      batch: 1,
      crop: 1024,
      checkpointEvery: Math.max(1, Math.floor(o.steps / 4)),
      keepCheckpoints: 1,
      logEvery: o.steps,
      evalEvery: o.steps,
      onStep: (s) => {
        if (s.step % every === 0 || s.step === o.steps) samples.push(sample(engine, 'train', s.step));
      },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const report: SoakReport = {
    adapter: engine.adapter.name,
    samples,
    phases: [judge('generate', samples), judge('train', samples)],
  };
  if (o.json) console.log(JSON.stringify(report, null, 1));
  else {
    console.log(`adapter: ${report.adapter}`);
    console.log('phase     at        live buffers  live MB  pooled  RSS MB  heap MB');
    for (const s of samples)
      console.log(
        `${s.phase.padEnd(8)}  ${String(s.at).padStart(8)}  ${String(s.liveBuffers).padStart(12)}  ${s.liveMB.toFixed(1).padStart(7)}  ` +
          `${String(s.pooledBuffers).padStart(6)}  ${s.rssMB.toFixed(0).padStart(6)}  ${s.heapMB.toFixed(0).padStart(7)}`,
      );
    for (const p of report.phases)
      console.log(
        `${p.phase}: after warm-up live buffers ${p.liveBuffersRange.join('-')}, pooled ${p.pooledBuffersRange.join('-')}, ` +
          `RSS ${p.rssGrowthMB >= 0 ? '+' : ''}${p.rssGrowthMB.toFixed(0)} MB: ${p.flat ? 'flat' : 'NOT flat'}`,
      );
  }
  return report;
}
