// `nsynth render --plan grid.json`: a grid of instruments x pitches x mix points expanded into a
// jobs file, as Open NSynth Super rendered its pads: sets of 2 corners (a line) or 4 (a square,
// bilinear weights), each at every pitch, at `resolution` points per side. A set of 1 is a plain
// reconstruction at each pitch. Inputs of weight 0 are left out of a job, so a corner is the same
// job (the same output) in every set that shares it and renders once.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jobLine, MAX_JOB_SECONDS, parseObject } from './jobs.js';

export interface RenderGrid {
  /** Corner notes of each set: WAVs or .npy embeddings; `{pitch}` (or `{pitch:03}`) is replaced by each pitch. */
  sets: string[][];
  pitches: number[];
  /** Mix points per side of a set (2 corners: a line of this many; 4: a square of this many squared). */
  resolution: number;
  seed?: number;
  seconds?: number;
  temperature?: number;
}

const KEYS = ['sets', 'pitches', 'resolution', 'seed', 'seconds', 'temperature'];
/** Most jobs one grid may expand to (Open NSynth Super rendered ~120,000 notes). */
export const MAX_GRID_JOBS = 1_000_000;

export function parseGrid(text: string, file: string): RenderGrid {
  const g = parseObject(text, file, 'a grid', KEYS);
  const sets = g.sets;
  if (
    !Array.isArray(sets) ||
    sets.length === 0 ||
    !sets.every((s) => Array.isArray(s) && [1, 2, 4].includes(s.length) && s.every((f) => typeof f === 'string' && f))
  )
    throw new Error(`${file}: "sets" must be a non-empty list of sets of 1, 2 or 4 note paths`);
  const pitches = g.pitches;
  if (
    !Array.isArray(pitches) ||
    pitches.length === 0 ||
    !pitches.every((p) => Number.isInteger(p) && p >= 0 && p <= 127)
  )
    throw new Error(`${file}: "pitches" must be a non-empty list of MIDI pitches (0-127)`);
  const resolution = g.resolution ?? 2;
  if (!Number.isInteger(resolution) || (resolution as number) < 2 || (resolution as number) > 1000)
    throw new Error(`${file}: "resolution" must be an integer in [2, 1000] (mix points per side)`);
  const opt = (key: string, ok: (x: number) => boolean, what: string): number | undefined => {
    const x = g[key];
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !ok(x)) throw new Error(`${file}: "${key}" must be ${what}`);
    return x;
  };
  const grid: RenderGrid = {
    sets: sets as string[][],
    pitches: pitches as number[],
    resolution: resolution as number,
    seed: opt('seed', (x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32, 'an integer in [0, 2^32)'),
    seconds: opt('seconds', (x) => x > 0 && x <= MAX_JOB_SECONDS, `a number in (0, ${MAX_JOB_SECONDS}]`),
    temperature: opt('temperature', (x) => x >= 0 && x <= 100, 'a number in [0, 100]'),
  };
  const n = gridJobCount(grid);
  if (n > MAX_GRID_JOBS) throw new Error(`${file}: the grid expands to ${n} jobs, over ${MAX_GRID_JOBS}`);
  return grid;
}

export function gridJobCount(g: RenderGrid): number {
  const points = (corners: number) => (corners === 1 ? 1 : corners === 2 ? g.resolution : g.resolution ** 2);
  return g.sets.reduce((n, s) => n + points(s.length), 0) * g.pitches.length;
}

/** The mix points of a set of `corners`: weights per corner and a label. */
export function mixPoints(corners: number, resolution: number): { weights: number[]; label: string }[] {
  if (corners === 1) return [{ weights: [1], label: '' }];
  const t = (i: number) => i / (resolution - 1);
  const out: { weights: number[]; label: string }[] = [];
  if (corners === 2) {
    for (let i = 0; i < resolution; i++) out.push({ weights: [1 - t(i), t(i)], label: `-x${i}` });
    return out;
  }
  for (let j = 0; j < resolution; j++)
    for (let i = 0; i < resolution; i++) {
      const [x, y] = [t(i), t(j)];
      out.push({ weights: [(1 - x) * (1 - y), x * (1 - y), (1 - x) * y, x * y], label: `-x${i}-y${j}` });
    }
  return out;
}

function withPitch(template: string, pitch: number): string {
  return template.replace(/\{pitch(?::0?(\d))?\}/g, (_, width?: string) =>
    String(pitch).padStart(Number(width ?? 0), '0'),
  );
}

/**
 * The grid's jobs as jobs-file lines (paths relative to `jobsDir`; the grid's relative to `gridDir`),
 * one at a time. A job equal to an earlier one but for its name (a corner shared by sets) is left
 * out: it would render the same file, on another shard perhaps.
 */
export function* expandGrid(g: RenderGrid, gridDir: string, jobsDir: string): Generator<string> {
  const seen = new Set<string>();
  for (const [s, set] of g.sets.entries())
    for (const pitch of g.pitches)
      for (const { weights, label } of mixPoints(set.length, g.resolution)) {
        const files = set.map((t) => path.resolve(gridDir, withPitch(t, pitch)));
        const used = weights.map((w, k) => ({ w, file: files[k] })).filter((x) => x.w !== 0);
        const notes = used.filter((x) => !x.file.endsWith('.npy'));
        const embeddings = used.filter((x) => x.file.endsWith('.npy'));
        const job = {
          notes: notes.length ? notes.map((x) => x.file) : undefined,
          embeddings: embeddings.length ? embeddings.map((x) => x.file) : undefined,
          mix: used.length > 1 ? [...notes, ...embeddings].map((x) => x.w) : undefined,
          pitch,
          seed: g.seed,
          seconds: g.seconds,
          temperature: g.temperature,
        };
        const key = createHash('sha256').update(JSON.stringify(job)).digest('base64').slice(0, 22);
        if (seen.has(key)) continue;
        seen.add(key);
        yield jobLine({ ...job, name: `set${s}-p${pitch}${label}` }, jobsDir);
      }
}

/**
 * --jobs names the output of --plan but the input of a render, so a render command with --plan
 * added would overwrite whatever it names: only an absent or empty file, or a jobs file (its first
 * line a job: a JSON object with notes or embeddings), is replaced, and never the grid itself.
 */
function refuseForeignFile(jobsFile: string): void {
  let head: string;
  try {
    const st = fs.statSync(jobsFile);
    if (!st.isFile()) throw new Error(`--jobs ${jobsFile}: exists and is not a file`);
    if (st.size === 0) return;
    const fd = fs.openSync(jobsFile, 'r');
    try {
      const buf = Buffer.alloc(Math.min(st.size, 65536));
      head = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  let first: unknown = null;
  try {
    first = JSON.parse(head.split('\n', 1)[0]);
  } catch {
    // not JSON: refused below
  }
  const job = first as { notes?: unknown; embeddings?: unknown } | null;
  const jobLike =
    job !== null && typeof job === 'object' && (Array.isArray(job.notes) || Array.isArray(job.embeddings));
  if (!jobLike)
    throw new Error(
      `--jobs ${jobsFile}: exists and is not a jobs file (its first line is not a job: a JSON object with notes or embeddings); --plan writes a new one: choose another name`,
    );
}

/**
 * Reads a grid file and writes its jobs file, streamed to a temporary file then renamed over the
 * target (a million jobs are ~500 MB of text: never one string); returns the number of jobs.
 */
export function planGrid(gridFile: string, jobsFile: string): number {
  let text: string;
  try {
    text = fs.readFileSync(gridFile, 'utf8');
  } catch (e) {
    throw new Error(`${gridFile}: cannot read the grid (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const grid = parseGrid(text, gridFile);
  const target = path.resolve(jobsFile);
  if (target === path.resolve(gridFile)) throw new Error(`--jobs ${jobsFile}: is the grid itself; name another file`);
  refuseForeignFile(jobsFile);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${randomBytes(6).toString('hex')}.shared-tmp`;
  let n = 0;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      let chunk: string[] = [];
      const flush = () => {
        fs.writeSync(fd, chunk.join(''));
        chunk = [];
      };
      for (const line of expandGrid(grid, path.dirname(path.resolve(gridFile)), path.dirname(target))) {
        chunk.push(`${line}\n`);
        n++;
        if (chunk.length >= 4096) flush();
      }
      flush();
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw code ? new Error(`${jobsFile}: cannot write the jobs file (${code})`) : e;
  }
  return n;
}
