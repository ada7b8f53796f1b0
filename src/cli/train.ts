// `nsynth train` and `nsynth synth-data`: the training loop with a progress bar (or JSON lines),
// Ctrl-C that checkpoints and exits cleanly, and the trained weights (raw and EMA) written to OUT.
import * as fs from 'node:fs';
import * as path from 'node:path';
import cliProgress from 'cli-progress';
import type { Engine } from '../gpu/engine.js';
import { CONFIGS, getConfig, validateConfig, type ModelConfig } from '../model/config.js';
import { readWeightsDir, writeWeightsDir } from '../io/weights-node.js';
import { FAMILIES, SOURCES, openNoteSource, parseLabelList, type NoteFilter } from '../io/nsynth.js';
import { train, type TrainLog } from '../train/trainer.js';

/** A config name, or a path to a config JSON (the `config` object of a weights manifest). */
export function resolveConfig(spec: string): ModelConfig {
  if (CONFIGS[spec]) return getConfig(spec);
  if (fs.existsSync(spec)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(spec, 'utf8'));
    } catch (e) {
      throw new Error(`${spec}: not a readable config JSON (${(e as Error).message})`);
    }
    return validateConfig(parsed, spec);
  }
  throw new Error(`Unknown config "${spec}" (known: ${Object.keys(CONFIGS).join(', ')}, or a path to a config .json)`);
}

export interface TrainCliOptions {
  config: string;
  data: string;
  steps: number;
  batch: number;
  out: string;
  resume?: boolean;
  lrScale: number;
  seed: number;
  crop: number;
  init?: string;
  checkpointEvery: number;
  keep: number;
  logEvery: number;
  evalEvery?: number;
  evalBatches: number;
  evalFraction: number;
  scheduleLength?: number;
  clip: number;
  emaDecay: number;
  families?: string;
  sources?: string;
  pitchMin?: number;
  pitchMax?: number;
  velocities?: string;
  json?: boolean;
  quiet?: boolean;
}

export async function runTrain(engine: Engine, o: TrainCliOptions): Promise<void> {
  const config = resolveConfig(o.config);
  const init = o.init ? readWeightsDir(o.init) : undefined;
  if (init && JSON.stringify(init.config) !== JSON.stringify(config)) throw new Error(`${o.init}: weights are config ${init.config.name}, --config is ${config.name}`);
  const filter: NoteFilter = {
    families: o.families ? parseLabelList(o.families, FAMILIES, 'family') : undefined,
    sources: o.sources ? parseLabelList(o.sources, SOURCES, 'source') : undefined,
    pitchMin: o.pitchMin,
    pitchMax: o.pitchMax,
    velocities: o.velocities ? o.velocities.split(',').map(Number) : undefined,
  };
  const source = openNoteSource(o.data);
  const say = (m: string) => {
    if (!o.quiet) console.error(`nsynth train: ${m}`);
  };
  const bar = o.json || o.quiet
    ? null
    : new cliProgress.SingleBar({
        format: 'training |{bar}| {value}/{total} steps | loss {loss} | eval {evalLoss} | {rate} samples/s | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 20,
      }, cliProgress.Presets.shades_classic);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  let started = false;
  try {
    const result = await train(engine, {
      config, source, steps: o.steps, out: o.out, batch: o.batch, crop: o.crop, seed: o.seed, lrScale: o.lrScale,
      scheduleLength: o.scheduleLength, maxGradNorm: o.clip, emaDecay: o.emaDecay, resume: o.resume, init,
      checkpointEvery: o.checkpointEvery, keepCheckpoints: o.keep, logEvery: o.logEvery, evalEvery: o.evalEvery,
      evalBatches: o.evalBatches, evalFraction: o.evalFraction, filter, signal: ac.signal,
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
    if (result.stopped) say(`interrupted at step ${result.step}; checkpoint ${result.checkpoint ?? '(none: no step ran)'}; continue with --resume`);
    else say(`done: step ${result.step}, loss ${result.lastLoss.toFixed(4)}${result.evalLoss !== null ? `, eval loss ${result.evalLoss.toFixed(4)}` : ''}; weights in ${path.join(o.out, 'weights')} and ${path.join(o.out, 'ema')}`);
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
    source.close();
  }
}
