// The page side of `nsynth bench generate --browser` (src/bench/browser.ts), bundled by
// tools/build-browser.js as dist/browser/bench.js: the same measurement as in Node
// (src/bench/generate-core.ts) on the browser's WebGPU, with the kernels from the bundle.
import type { AdapterDescription } from '../gpu/device.js';
import type { Engine } from '../gpu/engine.js';
import { type NSynthModel, loadModel, randomModel } from '../nsynth.js';
import { resolvePlan } from '../generate/fast.js';
import { Rng } from '../util/rng.js';
import {
  type BenchPage,
  type BrowserBenchParams,
  type BrowserGenerateParams,
  type BrowserModelParams,
  measureGeneration,
  TUNING_LOG_PREFIX,
  type GenerateBenchRow,
  type PageVoice,
} from '../bench/generate-core.js';
import { measureCeilings } from '../bench/probes.js';
import { createEngine, unsupportedReason } from './index.js';

// Node's bench measures a random model of seed 1 too; the values do not change the speed.
async function openModel(engine: Engine, p: BrowserModelParams): Promise<NSynthModel> {
  return p.modelUrl ? loadModel(engine, p.modelUrl) : randomModel(engine, p.config, 1);
}

// createEngine's own error names the missing piece too, but only after the bundle's work has begun;
// asking first keeps the benchmark's failure to one sentence.
async function benchEngine(): Promise<Engine> {
  const why = await unsupportedReason();
  if (why) throw new Error(`WebGPU is unavailable in this browser: ${why}`);
  return createEngine();
}

/** The generation benchmark in this page: its rows and the adapter they ran on. */
export const runBrowserBench: BenchPage['runBrowserBench'] = async function runBrowserBench(
  p: BrowserBenchParams,
): Promise<{ adapter: AdapterDescription; rows: GenerateBenchRow[] }> {
  const engine = await benchEngine();
  try {
    // Ceilings before the model exists, as in Node, so its buffers do not share the probes' memory.
    const ceilings = await measureCeilings(engine);
    const model = await openModel(engine, p);
    try {
      // The tuner's lines go to the console, where src/bench/browser.ts prints them as Node's bench does.
      const onTuning = (line: string) => console.info(`${TUNING_LOG_PREFIX}${line}`);
      const rows = await measureGeneration(engine, model, { ...p, ceilings, onTuning });
      return { adapter: engine.adapter, rows };
    } finally {
      model.dispose();
    }
  } finally {
    engine.destroy();
  }
};

/**
 * One seeded voice from the fast generator, for checking the page against Node: the embedding is
 * `seconds` of frames drawn from `new Rng(seed)`, pitch 60 where the config is pitch-conditioned.
 */
export async function generateInPage(p: BrowserGenerateParams): Promise<PageVoice> {
  const engine = await benchEngine();
  try {
    const model = await openModel(engine, p);
    try {
      const c = model.config;
      const frames = Math.max(1, Math.round((p.seconds * c.sampleRate) / c.hop));
      const rng = new Rng(p.seed);
      const data = Float32Array.from({ length: frames * c.bottleneck }, () => rng.uniform(-1, 1));
      const pitch = c.pitchConditioning ? 60 : undefined;
      const audio = await model.generate({ data, shape: [frames, c.bottleneck] }, { seed: p.seed, pitch });
      const plan = await resolvePlan(model.generatorResources(), 1, {}); // the choice just made (stored)
      return { adapter: engine.adapter, plan, audio: Array.from(audio) };
    } finally {
      model.dispose();
    }
  } finally {
    engine.destroy();
  }
}
