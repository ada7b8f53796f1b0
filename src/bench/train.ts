// Training throughput: one step = quantise + forward + backward + gradient norm + Adam/EMA, on
// batches of crops, next to the forward pass alone on the same plan (the baseline measured in the
// same run: a backward pass costs about twice a forward one, so the ideal ratio is ~1/3) and the
// adapter's FMA ceiling. `nsynth bench train [--json]`.
import type { Engine } from '../gpu/engine.js';
import {
  type BaselineConfig,
  BASELINE_CONFIGS,
  getBaselineConfig,
  isBaselineConfig,
} from '../model/baseline-config.js';
import { initBaselineWeights } from '../model/baseline-weights.js';
import { getConfig } from '../model/config.js';
import { type AnyConfig, initWeights } from '../model/weights.js';
import { ADAM_DEFAULTS } from '../ops/adam-update.js';
import { ParamLayout } from '../train/params.js';
import { TrainPlan } from '../train/train-plan.js';
import { macsPerSample } from './forward.js';
import { checkProfiling, type DispatchProfile, profileDispatches, profileTable } from './dispatch-profile.js';
import { ceilingsHeader, measureCeilings, type AdapterCeilings } from './probes.js';

export interface TrainBenchOptions {
  configs: string[];
  batch: number;
  crop: number;
  /** Timed steps per config (the best one is reported). */
  steps: number;
  json: boolean;
  /** Also time each dispatch of a step on the GPU (timestamp queries), grouped by kernel. */
  profile?: boolean;
}

export interface TrainBenchRow {
  config: string;
  batch: number;
  crop: number;
  stepSeconds: number;
  samplesPerSecond: number;
  forwardSamplesPerSecond: number;
  /** Training throughput over forward-only throughput (ideal ~0.33). */
  trainOverForward: number;
  /** Estimated arithmetic rate: 3 x the forward multiply-adds (forward, input and weight gradients). */
  gflops: number;
  dispatchesPerStep: number;
  buildSeconds: number;
  /** Where a step's GPU time goes, per kernel (with `profile`). */
  profile?: DispatchProfile;
}

export async function runTrainBench(
  engine: Engine,
  o: TrainBenchOptions,
): Promise<{ adapter: string; ceilings: AdapterCeilings; rows: TrainBenchRow[] }> {
  if (o.profile) checkProfiling(engine); // before the timing, not after
  const ceilings = await measureCeilings(engine);
  const rows: TrainBenchRow[] = [];
  for (const name of o.configs) {
    // A spectrogram baseline config trains on whole notes (its crop is its note length).
    const c: AnyConfig = Object.hasOwn(BASELINE_CONFIGS, name) ? getBaselineConfig(name) : getConfig(name);
    const baseline = isBaselineConfig(c);
    const crop = baseline ? c.samples : o.crop;
    const layout = new ParamLayout<AnyConfig>(c);
    const t0 = performance.now();
    const init = isBaselineConfig(c) ? initBaselineWeights(c, 1) : initWeights(c, 1);
    const plan = await TrainPlan.build(engine, c, o.batch, crop, { params: layout.pack(init) });
    try {
      const buildSeconds = (performance.now() - t0) / 1000;
      const audio = Float32Array.from({ length: o.batch * crop }, (_, i) => 0.5 * Math.sin(i / 9) * Math.sin(i / 1700));
      // Pitch-conditioned configs get a pitch per crop (MIDI 60: its value does not change the cost).
      const pitch = isBaselineConfig(c) || c.pitchConditioning ? new Uint32Array(o.batch).fill(60) : undefined;
      const h = { lr: 2e-4, ...ADAM_DEFAULTS, emaDecay: 0.9999, maxGradNorm: 0 };
      let step = Infinity;
      for (let s = 1; s <= o.steps; s++) {
        const ts = performance.now();
        plan.step(audio, h, s, pitch);
        await plan.loss();
        step = Math.min(step, (performance.now() - ts) / 1000);
      }
      let fwd = Infinity;
      for (let s = 0; s < Math.max(1, Math.min(o.steps, 2)); s++) {
        const ts = performance.now();
        plan.evaluate(audio, pitch);
        await plan.loss();
        fwd = Math.min(fwd, (performance.now() - ts) / 1000);
      }
      const samples = o.batch * crop;
      const macs = baseline
        ? baselineMacsPerNote(c) * o.batch
        : (() => {
            const m = macsPerSample(c);
            return (m.encoder + m.decoder) * samples;
          })();
      // After the timing, on the inputs the timed steps left in place: the profiled runs update the
      // parameters a few more times (the figures above do not depend on their values).
      const profile = o.profile ? await profileDispatches(engine, plan.stepList) : undefined;
      rows.push({
        config: name,
        batch: o.batch,
        crop,
        stepSeconds: step,
        samplesPerSecond: samples / step,
        forwardSamplesPerSecond: samples / fwd,
        trainOverForward: fwd / step,
        gflops: (3 * 2 * macs) / step / 1e9,
        dispatchesPerStep: plan.stepList.length,
        buildSeconds,
        ...(profile ? { profile } : {}),
      });
    } finally {
      plan.dispose();
    }
  }
  const result = { adapter: engine.adapter.name, ceilings, rows };
  if (o.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.log(ceilingsHeader(result.adapter, ceilings));
    console.log(
      'config      batch  crop   step s  train samples/s  forward samples/s  train/forward  GFLOP/s (% of FMA)  dispatches',
    );
    for (const r of rows) {
      console.log(
        `${r.config.padEnd(11)} ${String(r.batch).padStart(5)} ${String(r.crop).padStart(5)} ${r.stepSeconds.toFixed(2).padStart(8)} ` +
          `${r.samplesPerSecond.toFixed(0).padStart(16)} ${r.forwardSamplesPerSecond.toFixed(0).padStart(18)} ${r.trainOverForward.toFixed(2).padStart(14)} ` +
          `${`${r.gflops.toFixed(2)} (${((100 * r.gflops) / ceilings.fmaGflops).toFixed(0)}%)`.padStart(19)} ` +
          `${String(r.dispatchesPerStep).padStart(11)}`,
      );
    }
    for (const r of rows)
      if (r.profile)
        console.log(`\n${r.config}, batch ${r.batch}: one training step, per kernel\n${profileTable(r.profile)}`);
  }
  return result;
}

/** Multiply-adds of one note through the baseline: every conv's output cells x kernel x channels (a transposed conv counted at its smaller side). */
export function baselineMacsPerNote(c: BaselineConfig): number {
  let [h, w] = [c.freqBins, c.timeFrames];
  let cin = 1;
  let macs = 0;
  for (const l of c.encoder) {
    [h, w] = [Math.ceil(h / l.stride[0]), Math.ceil(w / l.stride[1])];
    macs += h * w * l.kernel[0] * l.kernel[1] * cin * l.channels;
    cin = l.channels;
  }
  macs += cin * c.latent; // the 1x1 code
  cin = c.latent + c.pitchDims;
  for (const l of c.decoder) {
    macs += h * w * l.kernel[0] * l.kernel[1] * cin * l.channels;
    [h, w] = [h * l.stride[0], w * l.stride[1]];
    cin = l.channels;
  }
  return macs + h * w * cin; // the 1x1 output
}
