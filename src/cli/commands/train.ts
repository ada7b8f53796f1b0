// `nsynth train`: the training loop with a progress bar (or JSON lines),
// Ctrl-C that checkpoints and exits cleanly, and the trained weights (raw and EMA) written to OUT.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import type { Engine } from '../../gpu/engine.js';
import {
  BASELINE_CONFIGS,
  getBaselineConfig,
  isBaselineConfig,
  validateBaselineConfig,
} from '../../model/baseline-config.js';
import { CONFIGS, getConfig, validateConfig } from '../../model/config.js';
import type { AnyConfig } from '../../model/weights.js';
import { readAnyWeightsDir, writeWeightsDir } from '../../formats/weights-node.js';
import { FAMILIES, SOURCES, openNoteSource, parseLabelList, type NoteFilter } from '../../dataset/nsynth.js';
import { train, type TrainLog } from '../../train/trainer.js';
import { examples, int, num, withEngine, MAX_SEED } from '../options.js';
import { progressBar } from '../output.js';

/**
 * A config name (a WaveNet's or a spectrogram baseline's), or a path to a config JSON (the `config`
 * object of a weights manifest).
 */
export function resolveConfig(spec: string): AnyConfig {
  if (CONFIGS[spec]) return getConfig(spec);
  if (BASELINE_CONFIGS[spec]) return getBaselineConfig(spec);
  if (fs.existsSync(spec)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(spec, 'utf8'));
    } catch (e) {
      throw new Error(`${spec}: not a readable config JSON (${(e as Error).message})`);
    }
    return isBaselineConfig(parsed) ? validateBaselineConfig(parsed, spec) : validateConfig(parsed, spec);
  }
  throw new Error(
    `Unknown config "${spec}" (known: ${[...Object.keys(CONFIGS), ...Object.keys(BASELINE_CONFIGS)].join(', ')}, or a path to a config .json)`,
  );
}

/** --arch and --config together: the architecture's default config, or a check that they agree. */
export function configFor(arch: string | undefined, config: string | undefined): AnyConfig {
  if (arch !== undefined && arch !== 'wavenet' && arch !== 'baseline')
    throw new Error(`--arch must be wavenet or baseline, got "${arch}"`);
  if (config === undefined) {
    if (arch === 'baseline') return getBaselineConfig('baseline');
    throw new Error('give --config NAME (or --arch baseline for the spectrogram baseline)');
  }
  const c = resolveConfig(config);
  const isBaseline = isBaselineConfig(c);
  if (arch !== undefined && isBaseline !== (arch === 'baseline'))
    throw new Error(`--config ${config} is a ${isBaseline ? 'baseline' : 'WaveNet'} config, --arch is ${arch}`);
  return c;
}

export interface TrainCliOptions {
  config?: string;
  arch?: string;
  data: string;
  steps: number;
  batch?: number;
  out: string;
  resume?: boolean;
  overwrite?: boolean;
  lrScale: number;
  seed: number;
  crop?: number;
  init?: string;
  checkpointEvery: number;
  keep: number;
  logEvery: number;
  evalEvery?: number;
  evalBatches: number;
  evalFraction: number;
  evalData?: string;
  scheduleLength?: number;
  clip: number;
  emaDecay: number;
  minCropRms: number;
  inputNoise: number;
  scheduledSampling: number;
  embeddingDropout: number;
  onsetCrops: number;
  changeOptions?: boolean;
  families?: string;
  sources?: string;
  pitchMin?: number;
  pitchMax?: number;
  velocities?: string;
  json?: boolean;
  quiet?: boolean;
}

export async function runTrain(engine: Engine, o: TrainCliOptions): Promise<void> {
  const config = configFor(o.arch, o.config);
  const init = o.init ? readAnyWeightsDir(o.init) : undefined;
  if (init && JSON.stringify(init.config) !== JSON.stringify(config))
    throw new Error(`${o.init}: weights are config ${init.config.name}, --config is ${config.name}`);
  const filter: NoteFilter = {
    families: o.families ? parseLabelList(o.families, FAMILIES, 'family') : undefined,
    sources: o.sources ? parseLabelList(o.sources, SOURCES, 'source') : undefined,
    pitchMin: o.pitchMin,
    pitchMax: o.pitchMax,
    velocities: o.velocities ? o.velocities.split(',').map(Number) : undefined,
  };
  const source = openNoteSource(o.data);
  let evalSource: ReturnType<typeof openNoteSource> | undefined;
  try {
    evalSource = o.evalData ? openNoteSource(o.evalData) : undefined;
  } catch (e) {
    source.close();
    throw e;
  }
  const say = (m: string) => {
    if (!o.quiet) console.error(`nsynth train: ${m}`);
  };
  const bar = progressBar(
    'training |{bar}| {value}/{total} steps | loss {loss} | eval {evalLoss} | {rate} samples/s | ETA {eta_formatted}',
    o,
  );
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  let started = false;
  try {
    const result = await train(engine, {
      config,
      source,
      steps: o.steps,
      out: o.out,
      batch: o.batch,
      crop: o.crop,
      seed: o.seed,
      lrScale: o.lrScale,
      scheduleLength: o.scheduleLength,
      maxGradNorm: o.clip,
      emaDecay: o.emaDecay,
      minCropRms: o.minCropRms,
      inputNoise: o.inputNoise,
      scheduledSampling: o.scheduledSampling,
      embeddingDropout: o.embeddingDropout,
      onsetCrops: o.onsetCrops,
      resume: o.resume,
      changeOptions: o.changeOptions,
      overwrite: o.overwrite,
      init,
      checkpointEvery: o.checkpointEvery,
      keepCheckpoints: o.keep,
      logEvery: o.logEvery,
      evalEvery: o.evalEvery,
      evalBatches: o.evalBatches,
      evalFraction: o.evalFraction,
      evalSource,
      filter,
      signal: ac.signal,
      onInfo: say,
      onStep: (s) => {
        if (!bar) return;
        if (!started) {
          bar.start(o.steps, s.step - 1, { loss: '-', evalLoss: '-', rate: '-' });
          started = true;
        }
        bar.update(s.step, { loss: s.loss.toFixed(4), rate: s.samplesPerSecond.toFixed(0) });
      },
      onLog: (r: TrainLog) => {
        if (o.json) console.log(JSON.stringify(r));
        else if (r.evalLoss !== undefined) bar?.update({ evalLoss: r.evalLoss.toFixed(4) });
      },
    });
    bar?.stop();
    if (result.step > result.startStep || !fs.existsSync(path.join(o.out, 'weights'))) {
      const meta = { trainedSteps: result.step, createdBy: 'nsynth train', data: o.data };
      writeWeightsDir(path.join(o.out, 'weights'), result.weights, 'f32', meta);
      writeWeightsDir(path.join(o.out, 'ema'), result.ema, 'f32', { ...meta, ema: o.emaDecay });
    }
    if (result.stopped) process.exitCode = 130; // interrupted, though its checkpoint is safe
    if (result.stopped)
      say(
        `interrupted at step ${result.step}; checkpoint ${result.checkpoint ?? '(none: no step ran)'}; continue with ` +
          `--resume`,
      );
    else
      say(
        `done: step ${result.step}, loss ` +
          `${result.lastLoss.toFixed(4)}${result.evalLoss !== null ? `, eval loss ${result.evalLoss.toFixed(4)}` : ''}; weights in ${path.join(o.out, 'weights')} and ${path.join(o.out, 'ema')}`,
      );
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
    source.close();
    evalSource?.close();
  }
}

export function trainCommand(): Command {
  return new Command('train')
    .description("train (or fine-tune) the autoencoder: Adam, Magenta's schedule, EMA, crash-safe checkpoints")
    .option(
      '--config <name>',
      `model config (${[...Object.keys(CONFIGS), ...Object.keys(BASELINE_CONFIGS)].join(', ')}) or a config .json`,
    )
    .option('--arch <arch>', "wavenet or baseline (the spectrogram baseline; without --config: the paper's config)")
    .requiredOption('--data <path>', 'NSynth data: a folder with examples.json (+ audio/), or a .tfrecord file')
    .requiredOption('--steps <n>', 'total training steps (a resumed run stops at the same total)', int('--steps', 1))
    .option(
      '--batch <n>',
      'crops per step (default 1; Magenta: 32 over 32 GPUs); the baseline: whole notes, default 8 as the paper',
      int('--batch', 1, 4096),
    )
    .requiredOption('--out <dir>', 'run folder: checkpoints/, and weights/ + ema/ at the end')
    .option('--resume', 'continue from the newest checkpoint in --out')
    .option(
      '--change-options',
      "with --resume: continue although trajectory options (not --seed) differ from the checkpoint's; the changes are printed and recorded in later checkpoints (recipeChanges)",
    )
    .option('--overwrite', 'start a new run in an --out that holds one, deleting its checkpoints and weights')
    .option('--lr-scale <x>', "multiply Magenta's learning rates", num('--lr-scale', 0, Infinity, true), 1)
    .option('--seed <n>', 'seed of the initialisation and of the data order', int('--seed', 0, MAX_SEED), 0)
    .option(
      '--crop <samples>',
      'training crop length (WaveNet; Magenta: 6144; default 6144, the baseline takes whole notes)',
      int('--crop', 1),
    )
    .option('--init <dir>', 'start from these weights (fine-tuning) instead of a fresh initialisation')
    .option(
      '--schedule-length <n>',
      "stretch Magenta's 200k-step schedule over n steps (e.g. your --steps)",
      int('--schedule-length', 1),
    )
    .option('--clip <norm>', 'clip the gradient to this global L2 norm (0: off, as Magenta)', num('--clip', 0), 0)
    .option(
      '--ema-decay <d>',
      'moving-average decay of the weights (Magenta: 0.9999; 0: off)',
      num('--ema-decay', 0, 1),
      0.9999,
    )
    .option(
      '--min-crop-rms <x>',
      'draw a crop again (16 offsets in its note at most, keeping the loudest) while its RMS is below x, e.g. 0.01 (-40 dBFS): less training on silent release tails (0: uniform crops, as Magenta)',
      num('--min-crop-rms', 0, 1),
      0,
    )
    .option(
      '--input-noise <classes>',
      "std (mu-law classes) of Gaussian noise on the decoder's teacher-forced input, targets clean: teaches it to continue from imperfect samples, as in generation (0: clean, as Magenta)",
      num('--input-noise', 0, 64),
      0,
    )
    .option(
      '--scheduled-sampling <p>',
      "replace each sample of the decoder's teacher-forced input, with probability p, by a draw from the model's own prediction of it (one extra forward pass a step): it learns to continue from its own errors, as in generation (0: off, as Magenta)",
      num('--scheduled-sampling', 0, 1),
      0,
    )
    .option(
      '--embedding-dropout <p>',
      'pitch-conditioned configs: train each crop, with probability p, without its embedding (zeros in its place), on its one-hot pitch alone: the decoder learns to follow its pitch input (0: off, as Magenta)',
      num('--embedding-dropout', 0, 1),
      0,
    )
    .option(
      '--onset-crops <p>',
      "start each crop, with probability p, at its note's first sample (else at a random offset): more training on the attack from silence, where every reconstruction starts (0: uniform crops, as Magenta)",
      num('--onset-crops', 0, 1),
      0,
    )
    .option('--checkpoint-every <n>', 'steps between checkpoints', int('--checkpoint-every', 1), 500)
    .option('--keep <n>', 'checkpoints kept', int('--keep', 1), 2)
    .option('--log-every <n>', 'steps per logged line', int('--log-every', 1), 10)
    .option(
      '--eval-every <n>',
      'steps between evaluations on held-out notes (default: --checkpoint-every)',
      int('--eval-every'),
    )
    .option('--eval-batches <n>', 'held-out batches per evaluation', int('--eval-batches'), 4)
    .option('--eval-fraction <x>', 'fraction of instruments held out for evaluation', num('--eval-fraction'), 0.1)
    .option(
      '--eval-data <path>',
      'evaluate on these notes (e.g. a valid/ split) instead; train on every note of --data',
    )
    .option('--families <list>', 'keep only these instrument families (names or ids, comma-separated)')
    .option('--sources <list>', 'keep only these sources (acoustic, electronic, synthetic)')
    .option('--pitch-min <midi>', 'lowest MIDI pitch kept', int('--pitch-min', 0, 127))
    .option('--pitch-max <midi>', 'highest MIDI pitch kept', int('--pitch-max', 0, 127))
    .option('--velocities <list>', 'keep only these velocities (comma-separated)')
    .option(
      '--json',
      'one JSON line per logged step on stdout: step, loss, lr, samplesPerSecond, gradNorm, evalLoss, evalPitchUse (pitch-conditioned configs), seconds',
    )
    .option('--quiet', 'no progress bar or messages')
    .addHelpText(
      'after',
      examples(
        'nsynth train --config tiny --data data/synthetic --steps 200 --batch 4 --out runs/tiny',
        'nsynth train --config tiny --data data/synthetic --steps 400 --out runs/tiny --resume',
        'nsynth train --arch baseline --config baseline_small --data nsynth-valid/ --steps 360 --out runs/baseline --json',
      ),
    )
    .action(async (o: TrainCliOptions, cmd: Command) => {
      await withEngine(cmd, (engine) => runTrain(engine, o));
    });
}
