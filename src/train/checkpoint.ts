// Training checkpoints that survive a crash. A checkpoint is a folder
//   OUT/checkpoints/ckpt-00001200/  weights/ ema/ adam-m/ adam-v/ (our weights format, CRC per tensor)
//                                   state.json (step, sampler position and RNG, run options)
// written under a temporary name (every file fsynced), renamed into place in one step, and only
// then named by OUT/checkpoints/latest.json (itself replaced atomically). A kill at any moment
// leaves either the previous checkpoint or the new one; temporary folders are swept on the next start.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readAnyWeightsDir, writeWeightsDir } from '../formats/weights-node.js';
import { writeFileAtomic } from '../formats/atomic-write.js';
import { isBaselineConfig, validateBaselineConfig } from '../model/baseline-config.js';
import { validateConfig } from '../model/config.js';
import type { AnyConfig, Weights } from '../model/weights.js';
import type { SamplerState } from './data.js';

export const CHECKPOINT_FORMAT = 'nsynth-webgpu-checkpoint';

/** Options that must match for a resumed run to continue the same trajectory. */
export interface TrajectoryOptions {
  batch: number;
  crop: number;
  seed: number;
  lrScale: number;
  scheduleLength: number;
  maxGradNorm: number;
  emaDecay: number;
  /** Crops quieter than this RMS are drawn again (0: uniform crops; absent in older checkpoints = 0). */
  minCropRms: number;
  /** Std of the Gaussian noise (in mu-law classes) on the decoder's teacher-forced input (0: none; absent = 0). */
  inputNoise: number;
  /** Probability of replacing a decoder input sample by the model's own draw (0: none; absent = 0). */
  scheduledSampling: number;
  /** Probability of training a batch item without its embedding, on its pitch alone (0: none; absent = 0). */
  embeddingDropout: number;
  /** Probability that a crop starts at its note's onset (0: none; absent = 0). */
  onsetCrops: number;
}

/** One trajectory option changed on purpose when a run was resumed at `step`. */
export interface RecipeChange {
  step: number;
  option: keyof TrajectoryOptions;
  from: number;
  to: number;
}

export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  step: number;
  config: AnyConfig;
  sampler: SamplerState;
  run: TrajectoryOptions;
  /** Data the run was started on (informational; a different path is allowed, e.g. a moved dataset). */
  data: string;
  savedAt: string;
  /** Wall-clock seconds of training up to this checkpoint, over every sitting (absent in older checkpoints). */
  trainSeconds?: number;
  /** Notes the sampler draws from (absent in older checkpoints): a resumed run must select the same ones. */
  trainNotes?: number;
  /** Trajectory options changed on purpose on a resume (`changeOptions`), oldest first; absent if none. */
  recipeChanges?: RecipeChange[];
}

export interface Checkpoint {
  state: CheckpointState;
  weights: Weights<AnyConfig>;
  ema: Weights<AnyConfig>;
  m: Weights<AnyConfig>;
  v: Weights<AnyConfig>;
}

const PARTS = ['weights', 'ema', 'adam-m', 'adam-v'] as const;

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch {
    // Not supported on every platform; the renames are still atomic.
  }
}

export function checkpointsDir(out: string): string {
  return path.join(out, 'checkpoints');
}

function stepDirName(step: number): string {
  return `ckpt-${String(step).padStart(8, '0')}`;
}

export interface WriteHooks {
  /** Called after each file part is written (tests use it to simulate a crash mid-write). */
  afterPart?: (part: string) => void;
}

/** Writes a checkpoint atomically, points latest.json at it, keeps the newest `keep`. Returns its folder. */
export function writeCheckpoint(out: string, ck: Checkpoint, keep = 2, hooks: WriteHooks = {}): string {
  const root = checkpointsDir(out);
  fs.mkdirSync(root, { recursive: true });
  const name = stepDirName(ck.state.step);
  const tmp = path.join(root, `.tmp-${name}-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  const parts: Record<(typeof PARTS)[number], Weights<AnyConfig>> = {
    weights: ck.weights,
    ema: ck.ema,
    'adam-m': ck.m,
    'adam-v': ck.v,
  };
  for (const p of PARTS) {
    writeWeightsDir(path.join(tmp, p), parts[p], 'f32', { checkpointStep: ck.state.step, part: p });
    hooks.afterPart?.(p);
  }
  writeFileAtomic(path.join(tmp, 'state.json'), `${JSON.stringify(ck.state, null, 1)}\n`);
  hooks.afterPart?.('state.json');
  fsyncDir(tmp);
  const final = path.join(root, name);
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(tmp, final);
  fsyncDir(root);
  writeFileAtomic(path.join(root, 'latest.json'), `${JSON.stringify({ step: ck.state.step, dir: name })}\n`);
  hooks.afterPart?.('latest.json');
  // Older checkpoints go only after latest.json names the new one.
  const all = listCheckpoints(out);
  for (const old of all.slice(0, Math.max(0, all.length - keep)))
    fs.rmSync(path.join(root, old.dir), { recursive: true, force: true });
  return final;
}

/** Complete checkpoint folders, oldest first. */
export function listCheckpoints(out: string): { step: number; dir: string }[] {
  const root = checkpointsDir(out);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .map((d) => ({ d, m: /^ckpt-(\d{8})$/.exec(d) }))
    .filter((x) => x.m)
    .map((x) => ({ step: Number(x.m![1]), dir: x.d }))
    .sort((a, b) => a.step - b.step);
}

/**
 * What of an earlier training run the folder `out` holds (checkpoints, latest.json, the final
 * weights/ and ema/), described for a message; null if none. A new run there would overwrite it.
 */
export function earlierRun(out: string): string | null {
  const found: string[] = [];
  const cks = listCheckpoints(out);
  if (cks.length) found.push(`${cks.length} checkpoint(s), the newest at step ${cks[cks.length - 1].step}`);
  else if (fs.existsSync(path.join(checkpointsDir(out), 'latest.json'))) found.push('checkpoints/latest.json');
  for (const d of ['weights', 'ema']) if (fs.existsSync(path.join(out, d))) found.push(`${d}/`);
  return found.length ? found.join(', ') : null;
}

/** Removes an earlier run's checkpoints and final weights from `out` (nothing else in it). */
export function clearEarlierRun(out: string): void {
  for (const d of [checkpointsDir(out), path.join(out, 'weights'), path.join(out, 'ema')])
    fs.rmSync(d, { recursive: true, force: true });
}

/** Removes temporary folders left by a run that was killed while writing. */
export function sweepTemporary(out: string): string[] {
  const root = checkpointsDir(out);
  if (!fs.existsSync(root)) return [];
  const stale = fs.readdirSync(root).filter((d) => d.startsWith('.tmp-') || d.endsWith('.tmp'));
  for (const d of stale) fs.rmSync(path.join(root, d), { recursive: true, force: true });
  return stale;
}

export function readCheckpoint(dir: string): Checkpoint {
  const statePath = path.join(dir, 'state.json');
  let state: CheckpointState;
  try {
    state = JSON.parse(fs.readFileSync(statePath, 'utf8')) as CheckpointState;
  } catch (e) {
    throw new Error(
      `${statePath}: cannot read the checkpoint state (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  if (state?.format !== CHECKPOINT_FORMAT || state.version !== 1)
    throw new Error(`${statePath}: not a version-1 ${CHECKPOINT_FORMAT} state file`);
  if (!Number.isInteger(state.step) || state.step < 0)
    throw new Error(`${statePath}: bad step ${JSON.stringify(state.step)}`);
  if (isBaselineConfig(state.config)) validateBaselineConfig(state.config, statePath);
  else validateConfig(state.config, statePath);
  const s = state.sampler;
  if (!s || ![s.epoch, s.position, s.rng].every((v) => Number.isInteger(v) && v >= 0))
    throw new Error(`${statePath}: bad sampler state ${JSON.stringify(s)}`);
  const [weights, ema, m, v] = PARTS.map((p) => readAnyWeightsDir(path.join(dir, p)));
  for (const [p, w] of [
    ['weights', weights],
    ['ema', ema],
    ['adam-m', m],
    ['adam-v', v],
  ] as const) {
    if (JSON.stringify(w.config) !== JSON.stringify(state.config))
      throw new Error(
        `${path.join(dir, p)}: config ${w.config.name} differs from the checkpoint's ${state.config.name}`,
      );
  }
  return { state, weights, ema, m, v };
}

/**
 * The newest loadable checkpoint: the one latest.json names, or (if that one is unreadable) the
 * newest complete folder that loads. Null when there is none. `problems` collects what was skipped.
 */
export function loadLatestCheckpoint(out: string, problems: string[] = []): Checkpoint | null {
  const root = checkpointsDir(out);
  const candidates = listCheckpoints(out)
    .reverse()
    .map((c) => c.dir);
  const latestPath = path.join(root, 'latest.json');
  if (fs.existsSync(latestPath)) {
    try {
      const named = (JSON.parse(fs.readFileSync(latestPath, 'utf8')) as { dir: string }).dir;
      if (typeof named === 'string' && /^ckpt-\d{8}$/.test(named)) candidates.unshift(named);
    } catch (e) {
      problems.push(`${latestPath}: unreadable (${(e as Error).message})`);
    }
  }
  for (const d of [...new Set(candidates)]) {
    try {
      return readCheckpoint(path.join(root, d));
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return null;
}
