// What every command shares: number parsers, the --length-policy option, the engine's life cycle
// (the global --adapter option), --model resolution, and NPY files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { createEngine, type Engine } from '../gpu/engine.js';
import { formatBytes } from '../gpu/tensor.js';
import { notePitch } from '../dataset/note-pitch.js';
import { writeFileAtomic } from '../formats/atomic-write.js';
import { decodeNpy, encodeNpy, type NpyArray } from '../formats/npy.js';
import { readAnyWeightsDir } from '../formats/weights-node.js';
import {
  BASELINE_CONFIGS,
  type BaselineConfig,
  getBaselineConfig,
  isBaselineConfig,
} from '../model/baseline-config.js';
import { initBaselineWeights } from '../model/baseline-weights.js';
import { CONFIGS } from '../model/config.js';
import type { Weights } from '../model/weights.js';
import { loadModel, randomModel, type NSynthModel } from '../nsynth.js';
import { packageRoot } from '../util/package-root.js';

/**
 * A commander parser for an option that must be an integer, from `min` to `max` when given: an absurd
 * value (`--batch 0`, `--seed -1`, `--steps 1e12`) is refused with the accepted range before any work.
 */
export function int(flag: string, min = -Infinity, max = Infinity): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`${flag} must be an integer${range(min, max)}, got "${v}"`);
    return n;
  };
}

/** A commander parser for a finite number within [min, max] (`above`: strictly greater than min). */
export function num(flag: string, min = -Infinity, max = Infinity, above = false): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max || (above && n === min))
      throw new Error(
        `${flag} must be a number${above ? ` above ${min}${max < Infinity ? ` and at most ${max}` : ''}` : range(min, max)}, got "${v}"`,
      );
    return n;
  };
}

function range(min: number, max: number): string {
  if (min > -Infinity && max < Infinity) return ` from ${min} to ${max}`;
  if (min > -Infinity) return ` of at least ${min}`;
  if (max < Infinity) return ` of at most ${max}`;
  return '';
}

/** Seeds are 32-bit: a larger one would be taken modulo 2^32 without a word. */
export const MAX_SEED = 2 ** 32 - 1;
/** Longest audio a command generates or evaluates in one go (an hour: minutes of GPU time per second on a CPU). */
export const MAX_SECONDS = 3600;

/** A commander parser for a comma-separated list of integers. */
export function intList(flag: string, min = -Infinity, max = Infinity): (v: string) => number[] {
  const one = int(flag, min, max);
  return (v) => v.split(',').map(one);
}

/**
 * The end of a command's --help: commands to copy, one per line (`$ nsynth ...`). Every command has
 * some (test/cli-help.test.ts parses each one against its command).
 */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}

/** What a JSON result calls the model: the --model given, or the shipped default. */
export function modelLabel(spec: string | undefined): string {
  return spec ?? 'weights/default';
}

export const lengthOption = (): Option =>
  new Option('--length-policy <policy>', 'a length that is not a multiple of 512: trim (as Magenta), pad or strict')
    .choices(['trim', 'pad', 'strict'])
    .default('trim');

/** Runs `fn` with an engine on the adapter named by the global --adapter option, and frees it after. */
export async function withEngine<T>(cmd: Command, fn: (e: Engine) => Promise<T>): Promise<T> {
  const model: unknown = cmd.opts().model;
  for (const spec of Array.isArray(model) ? model : [model]) if (typeof spec === 'string') checkModelSpec(spec);
  const engine = await createEngine({ adapter: cmd.optsWithGlobals().adapter as string | undefined });
  try {
    return await fn(engine);
  } finally {
    engine.destroy();
  }
}

/** The model every command uses without --model: the package's weights/default. */
export function defaultModelDir(): string {
  return path.join(packageRoot(), 'weights', 'default');
}

/**
 * A benchmark's config name, where `default` means the shipped default model's config (read from
 * weights/default/manifest.json).
 */
export function benchConfigName(name: string): string {
  if (name !== 'default') {
    if (!Object.hasOwn(CONFIGS, name) && !Object.hasOwn(BASELINE_CONFIGS, name))
      throw new Error(
        `Unknown config "${name}" (known: default, ${[...Object.keys(CONFIGS), ...Object.keys(BASELINE_CONFIGS)].join(', ')})`,
      );
    return name;
  }
  const manifest = path.join(defaultModelDir(), 'manifest.json');
  if (!fs.existsSync(manifest)) throw new Error(`--config default: no default model in ${defaultModelDir()} yet`);
  const config = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { config?: { name?: unknown } }).config;
  if (typeof config?.name !== 'string') throw new Error(`${manifest}: no config name`);
  return config.name;
}

/** `--model DIR` or `random:CONFIG`; without it, the shipped default model. */
export const modelOption = (): Option =>
  new Option('--model <dir>', 'weights folder, or random:CONFIG (default: the shipped weights/default)');

/**
 * A --model folder that is missing or has no manifest, refused before the GPU starts (whose driver
 * may print lines of its own first), so that the error is the command's one line. `random:CONFIG`
 * and eval's `noise` are not folders.
 */
export function checkModelSpec(spec: string): void {
  // random:CONFIG and eval's noise are no folders; an http(s) URL is fetched; a file: URL is a folder.
  if (/^random:/.test(spec) || spec === 'noise' || /^https?:/i.test(spec)) return;
  const dir = /^file:/i.test(spec) ? fileURLToPath(spec) : spec;
  if (!fs.existsSync(dir)) throw new Error(`--model ${spec}: no such folder (a weights folder, or random:CONFIG)`);
  if (!fs.statSync(dir).isDirectory())
    throw new Error(`--model ${spec}: a file, not a weights folder (the folder holding manifest.json)`);
  if (!fs.existsSync(path.join(dir, 'manifest.json')))
    throw new Error(`--model ${spec}: no weights manifest here (${path.join(dir, 'manifest.json')})`);
}

/** `--model DIR`, `--model random:CONFIG` (a randomly initialised model, for speed measurements), or the default. */
export async function openModel(engine: Engine, spec: string | undefined, seed = 0): Promise<NSynthModel> {
  const m = spec ? /^random:(.+)$/.exec(spec) : null;
  if (m) return randomModel(engine, m[1], seed);
  if (spec === undefined) {
    const dir = defaultModelDir();
    if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
      throw new Error(`no default model in ${dir} yet: pass --model DIR (a weights folder) or --model random:CONFIG`);
    }
    return loadModel(engine, dir);
  }
  return loadModel(engine, spec);
}

/**
 * A spectrogram baseline's weights for `--model` (a folder whose config says so, or
 * random:baseline_*), else null (the spec is a WaveNet's, for openModel).
 */
export function openBaseline(spec: string | undefined, seed = 0): Weights<BaselineConfig> | null {
  if (spec === undefined) return null;
  const m = /^random:(.+)$/.exec(spec);
  if (m) return Object.hasOwn(BASELINE_CONFIGS, m[1]) ? initBaselineWeights(getBaselineConfig(m[1]), seed) : null;
  if (/^https?:/i.test(spec)) return null; // fetched by openModel, a WaveNet's
  if (/^file:/i.test(spec)) spec = fileURLToPath(spec);
  // The manifest alone says which architecture a folder holds (a WaveNet's is then read by openModel).
  let config: unknown;
  try {
    config = JSON.parse(fs.readFileSync(path.join(spec, 'manifest.json'), 'utf8'))?.config;
  } catch {
    return null; // not a readable manifest: openModel reports it
  }
  return isBaselineConfig(config) ? (readAnyWeightsDir(spec) as Weights<BaselineConfig>) : null;
}

export function readNpy(file: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeNpy(bytes, file);
}

export function writeNpy(file: string, data: Float32Array, shape: number[]): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(file, encodeNpy(data, shape));
}

/**
 * The pitch a command conditions one note on: none for a model without pitch conditioning (where
 * --pitch is refused); else --pitch, the NSynth file name, an examples.json beside the file, or the
 * note's f0 (notePitch), as `reconstruct` takes it. Without a note (an embedding alone) only --pitch.
 */
export function conditioningPitch(
  config: { name: string; pitchConditioning: boolean },
  pitch: number | undefined,
  note?: { file: string; audio: Float32Array },
): { pitch: number; from: string } | undefined {
  refusePitchWithout(config, pitch);
  if (!config.pitchConditioning) return undefined;
  if (note) return notePitch(note.file, note.audio, pitch);
  if (pitch === undefined)
    throw new Error(
      `config ${config.name} is pitch-conditioned: give --pitch MIDI (an embedding carries no note to take a pitch from)`,
    );
  return { pitch, from: '--pitch' };
}

/** --pitch on a model without pitch conditioning would be ignored without a word: refused instead. */
export function refusePitchWithout(
  config: { name: string; pitchConditioning: boolean },
  pitch: number | undefined,
): void {
  if (pitch !== undefined && !config.pitchConditioning)
    throw new Error(`--pitch ${pitch}: config ${config.name} is not pitch-conditioned (it takes no pitch)`);
}

/**
 * Refuses, before any work, a command whose results would not fit in host memory (an hour of audio
 * in 4,096 voices is terabytes): `bytes` against half of this machine's memory, with both named.
 */
export function refuseHostMemory(bytes: number, what: string, hint: string): void {
  const limit = os.totalmem() / 2;
  if (bytes > limit)
    throw new Error(
      `${what} would take ${formatBytes(bytes)} of memory, over half of this machine's ${formatBytes(os.totalmem())}: ${hint}`,
    );
}
