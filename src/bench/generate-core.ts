// The fast-generation measurement itself, with nothing Node-only in it (no file system, no child
// processes, no console), so that one piece of code times generation both in Node
// (src/bench/generate.ts, which adds the NumPy baseline and prints the table) and in a browser page
// (src/browser/bench-entry.ts, bundled as dist/browser/bench.js): the two rows then differ only in
// the WebGPU implementation under them.
import { checkFusedShape, type FusedShape } from '../ops/gen-step.js';
import type { AdapterDescription } from '../gpu/device.js';
import type { Engine } from '../gpu/engine.js';
import type { NSynthModel } from '../nsynth.js';
import { planCost } from '../generate/route.js';
import { instanceLayout } from '../generate/instance.js';
import { resolvePlan } from '../generate/fast.js';
import { type Plan, planLabel } from '../generate/tuning.js';
import type { GenerationPath } from '../generate/types.js';
import { naiveGenerate } from '../generate/naive.js';
import { Rng } from '../util/rng.js';
import { checkProfiling, type DispatchProfile, profileDispatches } from './dispatch-profile.js';
import { measureCeilings, type AdapterCeilings } from './probes.js';

/** One batch size's result (`nsynth bench generate --json` prints an array of these). */
export interface GenerateBenchRow {
  config: string;
  adapter: string;
  batch: number;
  samplesPerSecond: number;
  aggregateSamplesPerSecond: number;
  realtimeFactor: number;
  dispatchesPerStep: number;
  /** The generation path that ran (`auto` resolved: by the rules or the adapter's tuned choice). */
  path: string;
  /** The kernels in words: the path, and on the fused path its storage, outputs x slices per workgroup and voice tile. */
  kernel: string;
  /** How the path stores its weights: 'f16' for voice-lanes' exact f16 pairs or the fused path's f16 storage, else 'f32'. */
  weightStorage: 'f32' | 'f16';
  /** Bytes of weights one step of the whole batch streams (every voice tile reads them once). */
  weightBytesPerStep: number;
  naiveSamplesPerSecond: number;
  speedupOverNaive: number;
  weightGBps: number;
  weightBandwidthFraction: number;
  /** The NumPy/OpenBLAS step at the same batch; null where it was not measured (always, in a browser). */
  numpySamplesPerSecond: number | null;
  ratioToNumpy: number | null;
  readCeilingGBps: number;
  fmaCeilingGflops: number;
  /** Where one step's GPU time goes, per kernel (with `profile`). */
  profile?: DispatchProfile;
}

export interface MeasureGenerationOptions {
  batches: number[];
  /** Audio generated per batch size, in seconds (rounded to whole frames, at least one). */
  seconds: number;
  /** Samples the naive generator makes for its one-voice figure (it is slow). */
  naiveSteps: number;
  /** The adapter's ceilings when the caller has measured them already (they are measured otherwise). */
  ceilings?: AdapterCeilings;
  /** Force a path (default `auto`: the rules, or the kernels timed for this adapter). */
  path?: GenerationPath;
  /** The fused path's weight storage (default `auto`). */
  weightStorage?: 'auto' | 'f32' | 'f16';
  /** The fused path's workgroup shape, forcing the tuned one (with `path: 'fused'`). */
  fusedShape?: FusedShape;
  /** Told each candidate's speed where `auto` tunes the kernels (during the untimed warm-up). */
  onTuning?: (line: string) => void;
  /** After each batch's timing, time every dispatch of one step on the GPU (timestamp queries). */
  profile?: boolean;
}

/**
 * Times `model`'s fast generator at each batch size and, once, the naive generator for one voice.
 * The model stays the caller's (not disposed). Rows have null NumPy fields: the caller adds them
 * where it can run NumPy.
 */
export async function measureGeneration(
  engine: Engine,
  model: NSynthModel,
  o: MeasureGenerationOptions,
): Promise<GenerateBenchRow[]> {
  for (const B of o.batches) if (!Number.isInteger(B) || B < 1) throw new Error(`bad batch size ${B}`);
  if (o.profile) checkProfiling(engine); // before minutes of timing, not after
  const c = model.config;
  // a forced shape that does not fit the config's widths fails here, not after the naive baseline
  if (o.fusedShape) checkFusedShape(o.fusedShape, c.decoder.residual, c.decoder.skip);
  const ceilings = o.ceilings ?? (await measureCeilings(engine));
  const resources = model.generatorResources();
  const gen = resources.gen;
  const kernels = { path: o.path, weightStorage: o.weightStorage, fusedShape: o.fusedShape };
  const frames = Math.max(1, Math.round((o.seconds * c.sampleRate) / c.hop));
  const T = frames * c.hop;
  // Pitch-conditioned configs get MIDI 60 for every voice (the pitch does not change the cost).
  const pitch = c.pitchConditioning ? 60 : undefined;

  // The naive generator re-runs the decoder over its whole receptive field per sample, so a few
  // samples of one voice are enough to time it.
  const naiveEmb = {
    data: Float32Array.from({ length: frames * c.bottleneck }, (_, i) => Math.sin(i)),
    shape: [frames, c.bottleneck],
  };
  const naiveSteps = Math.max(1, Math.min(o.naiveSteps, T));
  const n0 = performance.now();
  await naiveGenerate(model, naiveEmb, { steps: naiveSteps, seed: 1, pitch });
  const naivePerVoice = naiveSteps / ((performance.now() - n0) / 1000);

  const rows: GenerateBenchRow[] = [];
  for (const B of o.batches) {
    const rng = new Rng(B);
    const emb = {
      data: Float32Array.from({ length: B * frames * c.bottleneck }, () => rng.uniform(-1, 1)),
      shape: [B, frames, c.bottleneck],
    };
    // One frame first, untimed: pipeline creation, weight packing and (under `auto`, once per adapter)
    // timing the kernels are not generation speed.
    await model.generate(
      { data: emb.data.subarray(0, B * c.bottleneck), shape: [B, 1, c.bottleneck] },
      { stepsPerSubmit: 8, chunkSize: 64, pitch, ...kernels, onTuning: o.onTuning },
    );
    const plan = await resolvePlan(resources, B, kernels); // the warm-up's choice (tuned ones are stored)
    const t0 = performance.now();
    await model.generate(emb, { seed: 1, pitch, ...kernels });
    const perVoice = T / ((performance.now() - t0) / 1000);
    // Once more, untimed, laid out as the timed run (its length decides the instances and layer
    // groups), handing over its step before the first sample and stopping after one.
    let profile: DispatchProfile | undefined;
    if (o.profile)
      await model.generate(emb, {
        seed: 1,
        pitch,
        ...kernels,
        stopAfter: 1,
        profileStep: async (step) => {
          profile = await profileDispatches(engine, step);
        },
      });
    // the first instance's layer groups, as generateChunks lays the batch out (a step-start dispatch each)
    const { groups } = instanceLayout(engine, c, B, frames, plan.path);
    const cost = planCost(c, plan, B, !!gen.allF16, groups.length);
    const weightGBps = (cost.weightBytesPerStep * perVoice) / 1e9;
    rows.push({
      config: c.name,
      adapter: engine.adapter.name,
      batch: B,
      samplesPerSecond: perVoice,
      aggregateSamplesPerSecond: perVoice * B,
      realtimeFactor: perVoice / c.sampleRate,
      dispatchesPerStep: cost.dispatchesPerStep,
      path: plan.path,
      kernel: plan.path === 'voice-lanes' && cost.weightStorage === 'f16' ? 'voice-lanes f16' : planLabel(plan),
      weightStorage: cost.weightStorage,
      weightBytesPerStep: cost.weightBytesPerStep,
      naiveSamplesPerSecond: naivePerVoice,
      speedupOverNaive: (perVoice * B) / naivePerVoice,
      weightGBps,
      weightBandwidthFraction: weightGBps / ceilings.readGBps,
      numpySamplesPerSecond: null,
      ratioToNumpy: null,
      readCeilingGBps: ceilings.readGBps,
      fmaCeilingGflops: ceilings.fmaGflops,
      ...(profile ? { profile } : {}),
    });
  }
  return rows;
}

// The page side of `--browser` (src/browser/bench-entry.ts, bundled as dist/browser/bench.js) and what
// src/bench/browser.ts calls on it: defined here, below both, so neither imports the other.

export interface BrowserModelParams {
  /** Config of the random model measured when `modelUrl` is absent. */
  config: string;
  /** A weights folder served over HTTP (e.g. '/model/'). */
  modelUrl?: string;
}

/** Marks the page's console lines that carry the tuner's log. */
export const TUNING_LOG_PREFIX = 'nsynth-tuning: ';

export interface BrowserBenchParams extends BrowserModelParams {
  batches: number[];
  seconds: number;
  naiveSteps: number;
  /** Forced kernels, as in Node (default `auto`: the rules, or the kernels timed in this browser). */
  path?: GenerationPath;
  weightStorage?: 'auto' | 'f32' | 'f16';
  fusedShape?: FusedShape;
}

export interface BrowserGenerateParams extends BrowserModelParams {
  seconds: number;
  /** Seeds both the embedding (uniform in [-1, 1), util/rng's Rng) and the sampler. */
  seed: number;
}

/** A voice generated in the page, with the plan `auto` took there (the rules, or the kernels it timed). */
export interface PageVoice {
  adapter: AdapterDescription;
  plan: Plan;
  audio: number[];
}

/** What dist/browser/bench.js puts on the page's window as `nsynthBench`. */
export interface BenchPage {
  runBrowserBench(p: BrowserBenchParams): Promise<{ adapter: AdapterDescription; rows: GenerateBenchRow[] }>;
  generateInPage(p: BrowserGenerateParams): Promise<PageVoice>;
}
