// The training loop: batches from the sampler, one GPU step each (train-plan.ts), Magenta's
// learning-rate schedule, periodic evaluation on held-out notes, checkpoints every K steps, and a
// clean stop (checkpoint first) when the signal aborts. A run resumed from a checkpoint continues
// the exact trajectory of an uninterrupted one: same parameters, moments, sampler state and step.
import type { Engine } from '../gpu/engine.js';
import { isBaselineConfig } from '../model/baseline-config.js';
import { octaveAway } from '../model/inputs.js';
import { initBaselineWeights } from '../model/baseline-weights.js';
import { type AnyConfig, initWeights, type Weights } from '../model/weights.js';
import { ADAM_DEFAULTS, emaDecay, type AdamHyper } from '../ops/adam-update.js';
import type { NoteFilter, NoteSource } from '../dataset/nsynth.js';
import {
  checkpointsDir,
  clearEarlierRun,
  earlierRun,
  loadLatestCheckpoint,
  sweepTemporary,
  writeCheckpoint,
  type CheckpointState,
  type RecipeChange,
  type TrajectoryOptions,
  CHECKPOINT_FORMAT,
} from './checkpoint.js';
import {
  type Batch,
  CropSampler,
  checkNotesReadable,
  evalBatches,
  noisyDecoderInput,
  scheduledSamplingInput,
  embeddingDropoutOf,
  splitNotes,
} from './data.js';
import { muLawQuantizeArray } from '../ops/mu-law.js';
import { learningRate, MAGENTA_STEPS } from './schedule.js';
import { TrainPlan } from './train-plan.js';
import { ParamLayout } from './params.js';

export interface TrainOptions {
  /** A WaveNet config, or the spectrogram baseline's (which trains on whole notes of its `samples`). */
  config: AnyConfig;
  source: NoteSource;
  /** Total steps of the run (a resumed run stops at the same total). */
  steps: number;
  out: string;
  batch?: number;
  /** Crop length in samples (Magenta: 6144). */
  crop?: number;
  seed?: number;
  lrScale?: number;
  /** Steps over which Magenta's 200k-step schedule is stretched (default 200000: Magenta's exact schedule). */
  scheduleLength?: number;
  maxGradNorm?: number;
  emaDecay?: number;
  /** Crops quieter than this RMS are drawn again (see CropSampler); 0 (default): Magenta's uniform crops. */
  minCropRms?: number;
  /**
   * Std, in mu-law classes, of the Gaussian noise added to the decoder's teacher-forced input (the
   * encoder and the targets keep the clean audio); 0 (default): Magenta's clean teacher forcing.
   */
  inputNoise?: number;
  /**
   * Probability with which each sample of the decoder's teacher-forced input is replaced by a draw
   * from the model's own prediction of it (parallel scheduled sampling: one extra forward pass a
   * step; see scheduledSamplingInput); 0 (default): none.
   */
  scheduledSampling?: number;
  /**
   * Pitch-conditioned WaveNets: probability with which a batch item trains without its embedding
   * (zeros in its place), on the one-hot pitch alone, so the decoder learns to follow its pitch
   * input (see embeddingDropoutOf); 0 (default): never, as Magenta.
   */
  embeddingDropout?: number;
  /**
   * Probability that a crop starts at its note's first sample rather than a random offset (see
   * CropSampler): the attack from silence, where every reconstruction starts; 0 (default): uniform
   * crops, as Magenta.
   */
  onsetCrops?: number;
  resume?: boolean;
  /**
   * With `resume`: continue even where the trajectory options differ from the checkpoint's (a recipe
   * changed on purpose, e.g. a longer schedule); the differences are reported and the checkpoints
   * from here on record the new options. Without it such a resume is refused.
   */
  changeOptions?: boolean;
  /**
   * Start a new run in an `out` that holds an earlier one, deleting its checkpoints and final weights
   * first. Without it (and without `resume`) such an `out` is refused: it would be overwritten.
   */
  overwrite?: boolean;
  /** Start from these weights instead of a fresh initialisation (fine-tuning). */
  init?: Weights<AnyConfig>;
  checkpointEvery?: number;
  keepCheckpoints?: number;
  logEvery?: number;
  evalEvery?: number;
  evalBatches?: number;
  evalFraction?: number;
  /** Evaluate on these notes (e.g. NSynth's valid split) instead of instruments held out of `source`. */
  evalSource?: NoteSource;
  filter?: NoteFilter;
  signal?: AbortSignal;
  onLog?: (r: TrainLog) => void;
  onStep?: (r: { step: number; loss: number; samplesPerSecond: number }) => void;
  onInfo?: (message: string) => void;
}

export interface TrainLog {
  step: number;
  /** Mean training loss (nats per sample) over the steps since the last log line. */
  loss: number;
  lr: number;
  samplesPerSecond: number;
  gradNorm: number;
  evalLoss?: number;
  /**
   * Pitch-conditioned configs: the eval loss with every pitch an octave away minus evalLoss (nats per
   * sample). Near 0: the model ignores its pitch input; above 0: it uses it.
   */
  evalPitchUse?: number;
  /** Wall-clock seconds of training so far, over every sitting of a resumed run. */
  seconds: number;
}

export interface TrainResult {
  step: number;
  startStep: number;
  stopped: boolean;
  lastLoss: number;
  evalLoss: number | null;
  checkpoint: string | null;
  weights: Weights<AnyConfig>;
  ema: Weights<AnyConfig>;
}

export async function train(engine: Engine, o: TrainOptions): Promise<TrainResult> {
  const info = o.onInfo ?? (() => {});
  const run: TrajectoryOptions = {
    // The baseline's batch norms on 1 x 1 maps need several notes a batch: the paper's 8 by default.
    batch: o.batch ?? (isBaselineConfig(o.config) ? 8 : 1),
    crop: o.crop ?? (isBaselineConfig(o.config) ? o.config.samples : 6144),
    seed: o.seed ?? 0,
    lrScale: o.lrScale ?? 1,
    scheduleLength: o.scheduleLength ?? MAGENTA_STEPS,
    maxGradNorm: o.maxGradNorm ?? 0,
    emaDecay: o.emaDecay ?? 0.9999,
    minCropRms: o.minCropRms ?? 0,
    inputNoise: o.inputNoise ?? 0,
    scheduledSampling: o.scheduledSampling ?? 0,
    embeddingDropout: o.embeddingDropout ?? 0,
    onsetCrops: o.onsetCrops ?? 0,
  };
  if (!(run.inputNoise >= 0 && run.inputNoise <= 64))
    throw new Error(`Training option inputNoise must be from 0 to 64 mu-law classes, got ${run.inputNoise}`);
  if (!(run.scheduledSampling >= 0 && run.scheduledSampling <= 1))
    throw new Error(`Training option scheduledSampling must be a probability in [0, 1], got ${run.scheduledSampling}`);
  if (!(run.embeddingDropout >= 0 && run.embeddingDropout <= 1))
    throw new Error(`Training option embeddingDropout must be a probability in [0, 1], got ${run.embeddingDropout}`);
  if (run.embeddingDropout > 0 && (isBaselineConfig(o.config) || !o.config.pitchConditioning))
    throw new Error(
      `Training option embeddingDropout needs a pitch-conditioned WaveNet (${o.config.name} has no pitch input to fall back on)`,
    );
  if (!(run.onsetCrops >= 0 && run.onsetCrops <= 1))
    throw new Error(`Training option onsetCrops must be a probability in [0, 1], got ${run.onsetCrops}`);
  if (!(run.minCropRms >= 0 && run.minCropRms <= 1))
    throw new Error(`Training option minCropRms must be in [0, 1], got ${run.minCropRms}`);
  if (o.changeOptions && !o.resume) throw new Error('changeOptions applies to a resumed run: pass resume too');
  for (const [k, v] of Object.entries({ steps: o.steps, batch: run.batch, crop: run.crop })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`Training option ${k} must be a positive integer, got ${v}`);
  }
  if (isBaselineConfig(o.config) && run.crop !== o.config.samples)
    throw new Error(
      `The baseline ${o.config.name} trains on whole notes: crop must be ${o.config.samples}, got ${run.crop}`,
    );
  if (!isBaselineConfig(o.config) && run.crop % o.config.hop !== 0)
    throw new Error(`Training crop ${run.crop} must be a multiple of the frame length ${o.config.hop}`);
  // Shape limits before anything in `out` is touched (an --overwrite would otherwise delete first).
  // Input noise and scheduled sampling both teacher-force the decoder with an input the host gives.
  const givenDecoderInput = run.inputNoise > 0 || run.scheduledSampling > 0;
  TrainPlan.check(engine, o.config, run.batch, run.crop, { noisyDecoderInput: givenDecoderInput });
  const every = o.checkpointEvery ?? 500;
  const logEvery = o.logEvery ?? 10;
  const evalEvery = o.evalEvery ?? every;

  // State: a checkpoint, given weights, or Magenta's initialisation. An earlier run in `out` is
  // continued (resume), replaced on request (overwrite), or left alone with an error.
  if (o.resume && o.overwrite) throw new Error('resume and overwrite exclude each other: pick one');
  const earlier = o.resume ? null : earlierRun(o.out);
  if (earlier && !o.overwrite)
    throw new Error(
      `${o.out} already holds a training run (${earlier}); pass --resume to continue it, or --overwrite to ` +
        `start a new run there (deleting those)`,
    );
  if (earlier) {
    clearEarlierRun(o.out);
    info(`--overwrite: removed the earlier run in ${o.out} (${earlier})`);
  }
  const swept = sweepTemporary(o.out);
  if (swept.length) info(`removed ${swept.length} unfinished checkpoint folder(s) left by a killed run`);
  const problems: string[] = [];
  const ck = o.resume ? loadLatestCheckpoint(o.out, problems) : null;
  if (o.resume && !ck && problems.length)
    // Starting from step 0 here would let retention delete the damaged checkpoints: stop instead.
    throw new Error(
      `${checkpointsDir(o.out)}: no checkpoint loads (${problems.join('; ')}); nothing was changed. ` +
        `Repair or move them, or start a new run with --overwrite`,
    );
  for (const p of problems) info(`skipped a checkpoint: ${p}`);
  if (o.resume && !ck) info(`no checkpoint in ${o.out}; starting from step 0`);
  const recipeChanges = [...(ck?.state.recipeChanges ?? [])];
  if (ck)
    for (const change of checkResumable(ck.state, o.config, run, o.changeOptions ?? false)) {
      recipeChanges.push(change);
      info(
        `changed from the checkpoint's recipe at step ${change.step}: ${change.option} ${change.from} -> ${change.to}`,
      );
    }
  const weights =
    ck?.weights ??
    o.init ??
    (isBaselineConfig(o.config) ? initBaselineWeights(o.config, run.seed) : initWeights(o.config, run.seed));
  if (weights.config.name !== o.config.name)
    throw new Error(`Initial weights are config ${weights.config.name}, training config is ${o.config.name}`);

  const split = splitNotes(o.source, o.filter ?? {}, o.evalSource ? 0 : (o.evalFraction ?? 0.1));
  const trainNotes = split.train;
  let evalFrom = o.source;
  let evaluation = split.evaluation;
  if (o.evalSource) {
    evalFrom = o.evalSource;
    evaluation = splitNotes(o.evalSource, o.filter ?? {}, 0).train;
    info(
      `${trainNotes.length} training notes from ${o.source.where}; evaluating on ${evaluation.length} notes of ${o.evalSource.where}`,
    );
  } else {
    if (split.sharedSplit) info(`only one instrument passes the filters: evaluating on the training notes`);
    info(`${trainNotes.length} training notes, ${evaluation.length} held-out notes from ${o.source.where}`);
  }
  if (ck?.state.trainNotes !== undefined && ck.state.trainNotes !== trainNotes.length)
    throw new Error(
      `The checkpoint was trained on ${ck.state.trainNotes} notes, this run selects ${trainNotes.length} ` +
        `(resume with the same data, filters and --eval-fraction / --eval-data)`,
    );
  checkNotesReadable(o.source, trainNotes);
  if (o.evalSource) checkNotesReadable(o.evalSource, evaluation);
  const sampler = new CropSampler(
    o.source,
    trainNotes,
    run.crop,
    run.seed,
    ck?.state.sampler,
    run.minCropRms,
    run.onsetCrops,
  );
  const evalSet = evaluation.length ? evalBatches(evalFrom, evaluation, run.batch, run.crop, o.evalBatches ?? 4) : [];

  const layout = new ParamLayout(o.config);
  const plan = await TrainPlan.build(
    engine,
    o.config,
    run.batch,
    run.crop,
    {
      params: layout.pack(weights),
      m: ck ? layout.pack(ck.m) : undefined,
      v: ck ? layout.pack(ck.v) : undefined,
      ema: ck ? layout.pack(ck.ema) : undefined,
    },
    { noisyDecoderInput: givenDecoderInput },
  );

  const startStep = ck?.state.step ?? 0;
  let step = startStep;
  let lastLoss = NaN;
  let lastEval: number | null = null;
  let checkpoint: string | null = null;
  let savedStep = startStep;
  const hyper: AdamHyper = { lr: 0, ...ADAM_DEFAULTS, emaDecay: 0, maxGradNorm: run.maxGradNorm };
  let windowLoss = 0;
  let windowSteps = 0;
  let windowStart = performance.now();
  const sittingStart = performance.now();
  const earlierSeconds = ck?.state.trainSeconds ?? 0;
  const seconds = () => earlierSeconds + (performance.now() - sittingStart) / 1000;
  const save = async (): Promise<string> => {
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT,
      version: 1,
      step,
      config: o.config,
      sampler: sampler.state(),
      run,
      data: o.source.where,
      savedAt: new Date().toISOString(),
      trainSeconds: seconds(),
      trainNotes: trainNotes.length,
      ...(recipeChanges.length ? { recipeChanges } : {}),
    };
    const [p, e, m, v] = await Promise.all([plan.read('params'), plan.read('ema'), plan.read('m'), plan.read('v')]);
    const L = plan.layout;
    savedStep = step;
    return writeCheckpoint(
      o.out,
      { state, weights: L.unpack(p), ema: liveStatistics(L.unpack(e), L.unpack(p)), m: L.unpack(m), v: L.unpack(v) },
      o.keepCheckpoints ?? 2,
    );
  };
  const evaluate = async (): Promise<number | null> => {
    if (!evalSet.length) return null;
    let s = 0;
    for (const b of evalSet) {
      plan.evaluate(b.audio, b.pitch);
      s += await plan.loss();
    }
    return s / evalSet.length;
  };
  // The same batches with every pitch an octave away: how much the true pitch saves.
  const pitchConditioned = !isBaselineConfig(o.config) && o.config.pitchConditioning;
  const evaluatePitchUse = async (evalLoss: number): Promise<number | null> => {
    if (!evalSet.length || !pitchConditioned) return null;
    let s = 0;
    for (const b of evalSet) {
      plan.evaluate(b.audio, Uint32Array.from(b.pitch, octaveAway));
      s += await plan.loss();
    }
    return s / evalSet.length - evalLoss;
  };

  // The decoder's teacher-forced input for a step: the clean audio (undefined: the plan quantises it),
  // with input noise, then with scheduled sampling's draws from the model's prediction on that.
  const decoderInputOf = async (batch: Batch, step: number) => {
    if (!givenDecoderInput) return undefined;
    const base =
      run.inputNoise > 0
        ? noisyDecoderInput(batch.audio, run.inputNoise, run.seed, step)
        : muLawQuantizeArray(batch.audio).scaled;
    if (run.scheduledSampling === 0) return base;
    const logits = await plan.predict(batch.audio, batch.pitch, base);
    return scheduledSamplingInput(logits, base, run.scheduledSampling, run.seed, step);
  };

  try {
    let stopped = false;
    while (step < o.steps) {
      if (o.signal?.aborted) {
        stopped = true;
        break;
      }
      const lr = learningRate(step, run.scheduleLength, run.lrScale);
      hyper.lr = lr;
      hyper.emaDecay = run.emaDecay > 0 ? emaDecay(run.emaDecay, step + 1) : 0;
      const batch = sampler.nextBatch(run.batch);
      const decoderInput = await decoderInputOf(batch, step);
      const dropped =
        run.embeddingDropout > 0 ? embeddingDropoutOf(run.batch, run.embeddingDropout, run.seed, step) : undefined;
      plan.step(batch.audio, hyper, step + 1, batch.pitch, decoderInput, dropped);
      step++;
      lastLoss = await plan.loss();
      if (!Number.isFinite(lastLoss))
        throw new Error(`Training diverged at step ${step}: loss ${lastLoss} (lower --lr-scale or set --clip)`);
      windowLoss += lastLoss;
      windowSteps++;
      const now = performance.now();
      const sps = (windowSteps * run.batch * run.crop) / ((now - windowStart) / 1000);
      o.onStep?.({ step, loss: lastLoss, samplesPerSecond: sps });
      const isLast = step === o.steps;
      const doEval = step % evalEvery === 0 || isLast;
      if (step % logEvery === 0 || isLast || doEval) {
        const rec: TrainLog = {
          step,
          loss: windowLoss / windowSteps,
          lr,
          samplesPerSecond: sps,
          gradNorm: await plan.gradNorm(),
          seconds: 0,
        };
        if (doEval) {
          lastEval = await evaluate();
          if (lastEval !== null) {
            rec.evalLoss = lastEval;
            const use = await evaluatePitchUse(lastEval);
            if (use !== null) rec.evalPitchUse = use;
          }
        }
        rec.seconds = seconds();
        o.onLog?.(rec);
        windowLoss = 0;
        windowSteps = 0;
        windowStart = performance.now();
      }
      if (step % every === 0 || isLast) checkpoint = await save();
    }
    if (stopped && step > savedStep) checkpoint = await save();
    return {
      step,
      startStep,
      stopped,
      lastLoss,
      evalLoss: lastEval,
      checkpoint,
      weights: layout.unpack(await plan.read('params')),
      ema: liveStatistics(layout.unpack(await plan.read('ema')), layout.unpack(await plan.read('params'))),
    };
  } finally {
    plan.dispose();
  }
}

/**
 * A checkpoint continues only the run it came from: same config and the options that shape the
 * trajectory. An option older checkpoints lack takes its default (the behaviour before it existed).
 * With `allowChanges` differing options are returned as changes instead of refused, except the seed:
 * it fixes each epoch's order, and the sampler's saved position in that order would then point
 * into another order (some notes drawn twice, others skipped).
 */
function checkResumable(
  s: CheckpointState,
  config: AnyConfig,
  run: TrajectoryOptions,
  allowChanges: boolean,
): RecipeChange[] {
  if (JSON.stringify(s.config) !== JSON.stringify(config))
    throw new Error(`The checkpoint is config ${s.config.name}, this run is ${config.name}`);
  const before: TrajectoryOptions = { ...TRAJECTORY_DEFAULTS_OF_OLDER_CHECKPOINTS, ...s.run };
  const changes: RecipeChange[] = [];
  for (const k of Object.keys(run) as (keyof TrajectoryOptions)[]) {
    if (before[k] === run[k]) continue;
    if (!allowChanges || k === 'seed')
      throw new Error(
        `The checkpoint was trained with ${k} = ${before[k]}, this run has ${run[k]} (pass the same options to resume` +
          (k === 'seed'
            ? '; the seed fixes the data order and cannot change within a run)'
            : ', or change them on purpose with --change-options)'),
      );
    changes.push({ step: s.step, option: k, from: before[k], to: run[k] });
  }
  return changes;
}

/** Trajectory options added after checkpoints were first written, with the value those runs had. */
const TRAJECTORY_DEFAULTS_OF_OLDER_CHECKPOINTS: Partial<TrajectoryOptions> = {
  minCropRms: 0,
  inputNoise: 0,
  scheduledSampling: 0,
  embeddingDropout: 0,
  onsetCrops: 0,
};

/**
 * The moving average of the weights, with the batch norms' moving statistics taken from the live
 * parameters: those are averages already (updated in the step, not by Adam), and TensorFlow's
 * weight average covers trainable variables only. WaveNet weights have none and pass unchanged.
 */
export function liveStatistics(ema: Weights<AnyConfig>, params: Weights<AnyConfig>): Weights<AnyConfig> {
  for (const [name, t] of params.tensors)
    if (/\/BatchNorm\/moving_(mean|variance)$/.test(name)) ema.set(name, t.shape, t.data);
  return ema;
}
