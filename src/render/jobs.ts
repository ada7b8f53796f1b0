// The jobs of `nsynth render`: one JSON object per line of a jobs file, each naming what one output
// is made of (notes or embeddings, their mix weights, pitch, seed, length, temperature). Every line
// is checked before anything renders, so a typo on line 90,000 stops all shards at once instead of
// leaving a hole in the set; errors name the file and the line.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One job as read: input paths resolved against the jobs file's folder. */
export interface RenderJob {
  /** 1-based line in the jobs file. */
  line: number;
  /** 0-based index among the file's jobs (blank lines skipped): what sharding counts. */
  index: number;
  /** WAV notes (any rate; mixed down and resampled) or [frames, 16] .npy embeddings. */
  inputs: { kind: 'note' | 'embedding'; file: string }[];
  /** A weight per input (the embeddings' weighted sum): [1] for one input. */
  mix: number[];
  /** MIDI pitch for a pitch-conditioned model; else from the first input's name, examples.json or f0. */
  pitch?: number;
  seed: number;
  /** Length: the mixed embedding is cut or zero-padded to whole frames; default the inputs' (shortest) length. */
  seconds?: number;
  temperature: number;
  /** A label carried into the output's sidecar and the shard's index; not part of the output's identity. */
  name?: string;
}

const KEYS = ['notes', 'embeddings', 'mix', 'pitch', 'seed', 'seconds', 'temperature', 'name'];
export const MAX_INPUTS_PER_JOB = 64;
export const MAX_JOB_SECONDS = 3600;
/** A job line longer than this is refused (a job is a few hundred bytes; this bounds what one line may allocate). */
export const MAX_JOB_LINE_BYTES = 64 * 1024;

/** A JSON object with only the fields `keys` (a job, a grid); errors start with `where`. */
export function parseObject(text: string, where: string, what: string, keys: string[]): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not JSON (${(e as Error).message})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: ${what} is a JSON object`);
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !keys.includes(k));
  if (unknown.length)
    throw new Error(`${where}: unknown field ${unknown.map((k) => `"${k}"`).join(', ')} (fields: ${keys.join(', ')})`);
  return o;
}

/** Parses and checks one line; `where` is `file:line` for errors. */
export function parseJob(text: string, where: string, baseDir: string, line: number, index: number): RenderJob {
  const o = parseObject(text, where, 'a job', KEYS);
  const paths = (key: 'notes' | 'embeddings'): string[] => {
    const p = o[key];
    if (p === undefined) return [];
    if (!Array.isArray(p) || p.length === 0 || !p.every((s) => typeof s === 'string' && s.length > 0))
      throw new Error(`${where}: "${key}" must be a non-empty list of file paths`);
    return p.map((s) => path.resolve(baseDir, s as string));
  };
  const inputs = [
    ...paths('notes').map((file) => ({ kind: 'note' as const, file })),
    ...paths('embeddings').map((file) => ({ kind: 'embedding' as const, file })),
  ];
  if (inputs.length === 0) throw new Error(`${where}: a job needs "notes" (WAV files) or "embeddings" (.npy files)`);
  if (inputs.length > MAX_INPUTS_PER_JOB)
    throw new Error(`${where}: ${inputs.length} inputs, at most ${MAX_INPUTS_PER_JOB} per job`);
  let mix: number[];
  if (o.mix === undefined) {
    if (inputs.length > 1) throw new Error(`${where}: ${inputs.length} inputs need "mix", one weight each`);
    mix = [1];
  } else {
    if (!Array.isArray(o.mix) || !o.mix.every((w) => typeof w === 'number' && Number.isFinite(w)))
      throw new Error(`${where}: "mix" must be a list of finite numbers`);
    if (o.mix.length !== inputs.length)
      throw new Error(
        `${where}: "mix" has ${o.mix.length} weights for ${inputs.length} inputs (notes, then embeddings)`,
      );
    mix = o.mix as number[];
  }
  const field = (key: string, min: number, max: number, integer: boolean): number | undefined => {
    const x = o[key];
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !(integer ? Number.isInteger(x) : Number.isFinite(x)) || x < min || x > max)
      throw new Error(
        `${where}: "${key}" must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(x)}`,
      );
    return x;
  };
  const int = (key: string, min: number, max: number) => field(key, min, max, true);
  const real = (key: string, min: number, max: number) => field(key, min, max, false);
  const seconds = real('seconds', 0, MAX_JOB_SECONDS);
  if (seconds === 0) throw new Error(`${where}: "seconds" must be above 0`);
  if (o.name !== undefined && typeof o.name !== 'string') throw new Error(`${where}: "name" must be a string`);
  return {
    line,
    index,
    inputs,
    mix,
    pitch: int('pitch', 0, 127),
    seed: int('seed', 0, 2 ** 32 - 1) ?? 0,
    seconds,
    temperature: real('temperature', 0, 100) ?? 1,
    name: o.name as string | undefined,
  };
}

/**
 * Every job of a jobs file, checked, with `keep(index)` choosing which are kept (a shard's), and the
 * file's SHA-256. The file is streamed (a shard holds only its own jobs) and a line longer than
 * MAX_JOB_LINE_BYTES is refused as it grows, so a file without newlines is not read whole. Blank
 * lines are skipped.
 */
export async function readJobs(
  file: string,
  keep: (index: number) => boolean = () => true,
): Promise<{ jobs: RenderJob[]; sha256: string }> {
  let stream: fs.ReadStream;
  try {
    if (!fs.statSync(file).isFile()) throw new Error(`${file}: not a file`);
    stream = fs.createReadStream(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code ? new Error(`${file}: cannot read the jobs file (${code})`) : e;
  }
  const baseDir = path.dirname(path.resolve(file));
  const hash = createHash('sha256');
  const jobs: RenderJob[] = [];
  let line = 0;
  let index = 0;
  const take = (text: string) => {
    line++;
    if (text.trim() === '') return;
    const job = parseJob(text, `${file}:${line}`, baseDir, line, index);
    if (keep(index)) jobs.push(job);
    index++;
  };
  const decoder = new TextDecoder('utf-8');
  let partial = '';
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      const parts = (partial + decoder.decode(chunk, { stream: true })).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) take(text.endsWith('\r') ? text.slice(0, -1) : text);
      if (partial.length > MAX_JOB_LINE_BYTES)
        throw new Error(
          `${file}:${line + 1}: a line of over ${MAX_JOB_LINE_BYTES} characters (a job is a few hundred)`,
        );
    }
    partial += decoder.decode();
    if (partial.length > 0) take(partial.endsWith('\r') ? partial.slice(0, -1) : partial);
  } finally {
    stream.destroy();
  }
  if (index === 0) throw new Error(`${file}: no jobs (one JSON object per line)`);
  return { jobs, sha256: hash.digest('hex') };
}

/** A job as a jobs-file line, with input paths relative to `baseDir` (the jobs file's folder). */
export function jobLine(
  job: {
    notes?: string[];
    embeddings?: string[];
    mix?: number[];
    pitch?: number;
    seed?: number;
    seconds?: number;
    temperature?: number;
    name?: string;
  },
  baseDir: string,
): string {
  const rel = (files?: string[]) => files?.map((f) => path.relative(baseDir, f).split(path.sep).join('/'));
  return JSON.stringify({ ...job, notes: rel(job.notes), embeddings: rel(job.embeddings) });
}
