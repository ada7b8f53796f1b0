// What every command shares: number parsers, the --length-policy option, the engine's life cycle
// (the global --adapter option), --model resolution, and NPY files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Command, Option } from 'commander';
import { createEngine, type Engine } from '../gpu/engine.js';
import { writeFileAtomic } from '../formats/atomic-write.js';
import { decodeNpy, encodeNpy, type NpyArray } from '../formats/npy.js';
import { loadModel, randomModel, type NSynthModel } from '../nsynth.js';

/** A commander parser for an option that must be an integer. */
export function int(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${flag} must be an integer, got "${v}"`);
    return n;
  };
}

/** A commander parser for an option that must be a finite number. */
export function num(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`${flag} must be a number, got "${v}"`);
    return n;
  };
}

/** A commander parser for a comma-separated list of integers. */
export function intList(flag: string): (v: string) => number[] {
  const one = int(flag);
  return (v) => v.split(',').map(one);
}

export const lengthOption = (): Option =>
  new Option('--length-policy <policy>', 'a length that is not a multiple of 512: trim (as Magenta), pad or strict')
    .choices(['trim', 'pad', 'strict'])
    .default('trim');

/** Runs `fn` with an engine on the adapter named by the global --adapter option, and frees it after. */
export async function withEngine<T>(cmd: Command, fn: (e: Engine) => Promise<T>): Promise<T> {
  const engine = await createEngine({ adapter: cmd.optsWithGlobals().adapter as string | undefined });
  try {
    return await fn(engine);
  } finally {
    engine.destroy();
  }
}

/** `--model DIR`, or `--model random:CONFIG` (a randomly initialised model, for speed measurements). */
export async function openModel(engine: Engine, spec: string, seed = 0): Promise<NSynthModel> {
  const m = /^random:(.+)$/.exec(spec);
  if (m) return randomModel(engine, m[1], seed);
  return loadModel(engine, spec);
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
