// Writes weights/default from a training run of tools/train-default.sh: the moving average of the
// newest checkpoint's weights (what Magenta evaluates), stored as float16, with a manifest that
// records how it was made. Validation figures are added by tools/evaluate-default.sh.
//   node tools/ship-default.mjs RUN_DIR DATA_DIR [OUT_DIR]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeWeightsDir } from '../dist/src/formats/weights-node.js';
import { loadLatestCheckpoint } from '../dist/src/train/checkpoint.js';
import { liveStatistics } from '../dist/src/train/trainer.js';

const [run, data, out = 'weights/default'] = process.argv.slice(2);
if (!run || !data) {
  console.error('usage: node tools/ship-default.mjs RUN_DIR DATA_DIR [OUT_DIR]');
  process.exit(2);
}
const ck = loadLatestCheckpoint(run);
if (!ck) {
  console.error(`${run}: no checkpoint to ship`);
  process.exit(1);
}
const logFile = path.join(run, 'log.jsonl');
const log = fs.existsSync(logFile)
  ? fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
  : [];
const evals = log.filter((l) => l.evalLoss !== undefined && l.step <= ck.state.step);
const lastEval = evals.at(-1);
const s = ck.state;
const previous = fs.existsSync(path.join(out, 'manifest.json'))
  ? JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')).meta
  : undefined;
// The same shipping serves the spectrogram baseline (tools/train-baseline.sh); its loss is a weighted
// MSE, not nats, so no bits per sample are derived from it.
const baseline = ck.state.config.arch === 'baseline';
const meta = {
  description: baseline
    ? "The spectrogram baseline of nsynth-webgpu (the NSynth paper's comparison), trained here by tools/train-baseline.sh"
    : 'The default model of nsynth-webgpu, trained here by tools/train-default.sh',
  createdBy: baseline
    ? 'tools/train-baseline.sh (nsynth train --arch baseline), shipped by tools/ship-default.mjs'
    : 'tools/train-default.sh (nsynth train), shipped by tools/ship-default.mjs',
  data: {
    train: `${path.basename(data)}/train: 900 NSynth notes (test split, 36 instruments), CC BY 4.0`,
    validation: `${path.basename(data)}/valid: 80 notes of 5 other instruments`,
  },
  steps: s.step,
  seed: s.run.seed,
  batch: s.run.batch,
  crop: s.run.crop,
  lrScale: s.run.lrScale,
  scheduleLength: s.run.scheduleLength,
  maxGradNorm: s.run.maxGradNorm,
  emaDecay: s.run.emaDecay,
  minCropRms: s.run.minCropRms ?? 0,
  inputNoise: s.run.inputNoise ?? 0,
  scheduledSampling: s.run.scheduledSampling ?? 0,
  embeddingDropout: s.run.embeddingDropout ?? 0,
  onsetCrops: s.run.onsetCrops ?? 0,
  // Options changed on purpose when the run was resumed (--change-options): from which step on.
  recipeChanges: s.recipeChanges ?? [],
  weights: 'exponential moving average',
  trainSeconds: Math.round(s.trainSeconds ?? 0),
  trainedAt: s.savedAt,
  ...(baseline
    ? { validationWeightedMse: lastEval ? Number(lastEval.evalLoss.toFixed(5)) : null }
    : { validationBitsPerSample: lastEval ? Number((lastEval.evalLoss / Math.log(2)).toFixed(4)) : null }),
  // Figures of the generated reconstructions (tools/evaluate-default.sh) belong to one set of weights.
  ...(previous?.validation && previous.steps === s.step ? { validation: previous.validation } : {}),
};
// The batch norms' moving statistics come from the live weights, not from their moving average.
writeWeightsDir(out, liveStatistics(ck.ema, ck.weights), 'f16', meta);
console.log(
  `ship-default: ${out} from step ${s.step} of ${run} (${Math.round((s.trainSeconds ?? 0) / 60)} min of training)`,
);
