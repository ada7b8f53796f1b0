// Fast-generation speed: `nsynth bench generate --config CONFIG --batch 1,4,16 --seconds S [--json]`.
// Per batch: samples/s per voice and in aggregate, real-time factor, dispatches per step, the
// weight bandwidth reached against the adapter's measured read ceiling, and in the same run the
// naive generator for one voice (speed-up = aggregate samples/s over it) and, where python3 with
// NumPy is installed, a NumPy/OpenBLAS step at the same batch, for the ratios.
import { lanesOf } from '../gpu/lanes.js';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Engine } from '../gpu/engine.js';
import { loadModel, randomModel } from '../nsynth.js';
import { getConfig, decoderLayers } from '../model/config.js';
import { choosePath, dispatchesPerStep, VOICE_TILE } from '../generate/route.js';
import { naiveGenerate } from '../generate/naive.js';
import { Rng } from '../util/rng.js';
import { packageRoot } from '../util/package-root.js';
import { ceilingsHeader, measureCeilings } from './probes.js';

export interface GenerateBenchOptions {
  config: string;
  /** A weights folder to measure instead of a random model of `config` (speed does not depend on the values). */
  model?: string;
  batches: number[];
  seconds: number;
  naiveSteps: number;
  json: boolean;
}

export interface GenerateBenchRow {
  config: string;
  adapter: string;
  batch: number;
  samplesPerSecond: number;
  aggregateSamplesPerSecond: number;
  realtimeFactor: number;
  dispatchesPerStep: number;
  path: string;
  /** How the path stores its weights: 'f16' where voice-lanes reads exact f16 pairs, else 'f32'. */
  weightStorage: 'f32' | 'f16';
  naiveSamplesPerSecond: number;
  speedupOverNaive: number;
  weightGBps: number;
  weightBandwidthFraction: number;
  numpySamplesPerSecond: number | null;
  ratioToNumpy: number | null;
  readCeilingGBps: number;
  fmaCeilingGflops: number;
}

function numpyStep(R: number, S: number, L: number, lps: number, B: number, steps: number): number | null {
  const src = path.join(packageRoot(), 'src', 'bench', 'numpy_step.py');
  if (!fs.existsSync(src)) return null;
  const r = spawnSync('python3', [src, String(R), String(S), String(L), String(lps), String(B), String(steps)], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) return null;
  try {
    return (JSON.parse(r.stdout.trim()) as { samplesPerSecond: number }).samplesPerSecond;
  } catch {
    return null;
  }
}

export async function runGenerateBench(engine: Engine, o: GenerateBenchOptions): Promise<GenerateBenchRow[]> {
  const ceilings = await measureCeilings(engine);
  const model = o.model ? await loadModel(engine, o.model) : await randomModel(engine, getConfig(o.config), 1);
  const c = model.config;
  const resources = model.generatorResources();
  const weightBytes = [resources.gen.wPast, resources.gen.wCur, resources.gen.wResSkip, resources.gen.small].reduce(
    (n, t) => n + t.bytes,
    0,
  );
  const frames = Math.max(1, Math.round((o.seconds * c.sampleRate) / c.hop));
  // The naive generator once, for one voice (it re-runs the decoder over 6141 samples of context
  // per sample for h512_bo16, so a few samples are enough to time it).
  const naiveEmb = {
    data: Float32Array.from({ length: frames * c.bottleneck }, (_, i) => Math.sin(i)),
    shape: [frames, c.bottleneck],
  };
  const steps = Math.max(1, Math.min(o.naiveSteps, frames * c.hop));
  // Pitch-conditioned configs get MIDI 60 for every voice (the pitch does not change the cost).
  const pitch = c.pitchConditioning ? 60 : undefined;
  const n0 = performance.now();
  await naiveGenerate(model, naiveEmb, { steps, seed: 1, pitch });
  const naivePerVoice = steps / ((performance.now() - n0) / 1000);
  const rows: GenerateBenchRow[] = [];
  for (const B of o.batches) {
    if (!Number.isInteger(B) || B < 1) throw new Error(`bad batch size ${B}`);
    const rng = new Rng(B);
    const emb = {
      data: Float32Array.from({ length: B * frames * c.bottleneck }, () => rng.uniform(-1, 1)),
      shape: [B, frames, c.bottleneck],
    };
    await model.generate(
      { data: emb.data.subarray(0, B * c.bottleneck), shape: [B, 1, c.bottleneck] },
      { stepsPerSubmit: 8, chunkSize: 64, pitch },
    ); // warm-up: pipelines, packing
    const T = frames * c.hop;
    const t0 = performance.now();
    await model.generate(emb, { seed: 1, pitch });
    const s = (performance.now() - t0) / 1000;
    const perVoice = T / s;
    // the layered kernels read the weights once per voice tile; the voice-loop path once per voice
    const path = choosePath(c, 'auto', B, lanesOf(engine));
    const reads = path === 'layered' ? Math.ceil(B / VOICE_TILE) : B;
    const weightStorage = path === 'voice-lanes' && resources.gen.allF16 ? 'f16' : 'f32';
    const weightGBps = ((weightStorage === 'f16' ? weightBytes / 2 : weightBytes) * reads * (T / s)) / 1e9;
    const np = numpyStep(
      c.decoder.residual,
      c.decoder.skip,
      decoderLayers(c),
      c.decoder.layersPerStage,
      B,
      Math.max(8, Math.min(200, Math.round(perVoice))),
    );
    rows.push({
      config: c.name,
      adapter: engine.adapter.name,
      batch: B,
      samplesPerSecond: perVoice,
      aggregateSamplesPerSecond: perVoice * B,
      realtimeFactor: perVoice / c.sampleRate,
      dispatchesPerStep: dispatchesPerStep(c, 'auto', B, lanesOf(engine)),
      path,
      weightStorage,
      naiveSamplesPerSecond: naivePerVoice,
      speedupOverNaive: (perVoice * B) / naivePerVoice,
      weightGBps,
      weightBandwidthFraction: weightGBps / ceilings.readGBps,
      numpySamplesPerSecond: np,
      ratioToNumpy: np ? perVoice / np : null,
      readCeilingGBps: ceilings.readGBps,
      fmaCeilingGflops: ceilings.fmaGflops,
    });
  }
  model.dispose();
  if (o.json) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    console.log(ceilingsHeader(engine.adapter.name, ceilings));
    console.log(`config ${c.name}; ${o.seconds} s per batch size`);
    console.log(
      'batch  path             samples/s/voice  aggregate  realtime  dispatches/step  weights GB/s (of read ceiling)  naive (1 voice)  speed-up  NumPy samples/s/voice  ratio',
    );
    for (const r of rows) {
      console.log(
        `${String(r.batch).padStart(5)}  ${`${r.path}${r.weightStorage === 'f16' ? ' f16' : ''}`.padEnd(15)}  ${r.samplesPerSecond.toFixed(1).padStart(15)}  ${r.aggregateSamplesPerSecond.toFixed(1).padStart(9)}  ${r.realtimeFactor.toFixed(4).padStart(8)}  ` +
          `${(r.dispatchesPerStep < 1 ? r.dispatchesPerStep.toFixed(3) : String(r.dispatchesPerStep)).padStart(15)}  ${r.weightGBps.toFixed(2).padStart(12)} (${(100 * r.weightBandwidthFraction).toFixed(0)}%)`.padEnd(
            33,
          ) +
          `  ${r.naiveSamplesPerSecond.toFixed(2).padStart(15)}  ${r.speedupOverNaive.toFixed(0).padStart(7)}x  ` +
          `${r.numpySamplesPerSecond?.toFixed(1).padStart(21) ?? '                    -'}  ${r.ratioToNumpy ? `${r.ratioToNumpy.toFixed(2)}x` : '-'}`,
      );
    }
  }
  return rows;
}
