// examples/scale/: the scheduler recipes for `nsynth render`, run here as their schedulers would
// run them, on a random tiny model: the committed jobs file is what its grid plans; the one-machine
// script's shards (xargs, or GNU parallel where installed) render the set, resume it and report a
// failed shard; every task of the Slurm array runs with the variables Slurm sets (empty shards
// included); and every index of the Kubernetes Indexed Job runs the manifest's own command, env
// and paths. Each recipe's outputs are compared with one process's, byte for byte.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomModel } from '../src/nsynth.js';
import type { RenderSummary } from '../src/render/render.js';
import { BIN, type Finished, nsynthOk, runCommand } from './cli-run.js';
import { testEngine } from './helpers.js';

const ROOT = path.resolve(__dirname, '..');
const SCALE = path.join(ROOT, 'examples', 'scale');
const JOBS = path.join(SCALE, 'jobs.jsonl');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-render-examples-'));
const model = path.join(tmp, 'model');
/** The CLI as the recipes' NSYNTH: one word, whatever the paths of node and the repository hold. */
const wrapper = path.join(tmp, 'nsynth');
const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
/** Parallel processes: two on the two-core CI machine, more where there are cores for them. */
const CONCURRENCY = Math.max(2, Math.min(4, os.cpus().length));

/** The environment of a recipe's run: this one, less anything that would choose a shard for it. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NSYNTH_TUNING: 'off' };
  for (const k of Object.keys(env))
    if (/^(SLURM_|NSYNTH_SHARD|JOB_COMPLETION_INDEX$|SHARDS$|GPUS$|USE_XARGS$|ARGS$|MODEL$|OUT$|JOBS$)/.test(k))
      delete env[k];
  return { ...env, ...extra };
}

/** Runs a command to its end without blocking the worker (test/cli-run.ts); never throws on failure. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = tmp): Promise<Finished> {
  return runCommand(command, args, { cwd, env });
}

/** `f` over `items`, at most `limit` at a time, results in order. */
async function inTurn<T, R>(items: T[], limit: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      results[k] = await f(items[k]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Every output under `dir` (<id[0:2]>/<id>.wav and .json), without the shards' and scripts' bookkeeping. */
function outputs(dir: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const sub of fs.readdirSync(dir)) {
    if (sub === 'shards' || sub === 'logs') continue;
    for (const f of fs.readdirSync(path.join(dir, sub))) m.set(`${sub}/${f}`, fs.readFileSync(path.join(dir, sub, f)));
  }
  return m;
}

function summaries(dir: string): Map<string, RenderSummary> {
  const files = fs.readdirSync(path.join(dir, 'shards')).filter((f) => f.endsWith('.json'));
  return new Map(
    files.map((f) => [f.replace(/\.json$/, ''), JSON.parse(fs.readFileSync(path.join(dir, 'shards', f), 'utf8'))]),
  );
}

const jobCount = fs
  .readFileSync(JOBS, 'utf8')
  .split('\n')
  .filter((l) => l.trim()).length;
/** Jobs of shard i of n. */
const inShard = (i: number, n: number) =>
  Array.from({ length: jobCount }, (_, k) => k).filter((k) => k % n === i).length;

let single = new Map<string, Buffer>();
let singlePath = '';

/** The recipe's outputs are the single process's: the same files, the WAVs byte for byte. */
function expectSameAsSingle(dir: string): void {
  const got = outputs(dir);
  expect([...got.keys()].sort()).toEqual([...single.keys()].sort());
  for (const [f, bytes] of single) if (f.endsWith('.wav')) expect(got.get(f)!.equals(bytes), f).toBe(true);
}

beforeAll(async () => {
  const m = await randomModel(await testEngine(), 'tiny_pitch', 3);
  await m.save(model);
  m.dispose();
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(BIN)} "$@"\n`, { mode: 0o755 });
  const one = path.join(tmp, 'one');
  const s = JSON.parse(
    await nsynthOk(['render', '--jobs', JOBS, '--out', one, '--model', model, '--json'], { env: cleanEnv({}) }),
  ) as RenderSummary;
  expect(s.jobs).toMatchObject({ inShard: jobCount, rendered: jobCount, failed: 0 });
  single = outputs(one);
  singlePath = s.path;
  expect(single.size).toBe(2 * jobCount);
}, 180_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('examples/scale: the grid and its jobs', () => {
  it('grid.json is the four bundled notes at MIDI 60, a 3 x 3 square; jobs.jsonl is what --plan makes of it', async () => {
    const grid = JSON.parse(fs.readFileSync(path.join(SCALE, 'grid.json'), 'utf8'));
    expect(grid).toMatchObject({ pitches: [60], resolution: 3, seconds: 0.1 });
    expect(grid.sets).toHaveLength(1);
    expect(grid.sets[0].map((f: string) => path.basename(f)).sort()).toEqual([
      'brass_acoustic_006-060-100.wav',
      'flute_synthetic_000-060-025.wav',
      'guitar_acoustic_010-060-127.wav',
      'organ_electronic_001-060-127.wav',
    ]);
    for (const f of grid.sets[0]) expect(fs.existsSync(path.resolve(SCALE, f)), f).toBe(true);
    // Planned again beside a copy of the grid, at the same depth, so that the relative paths match.
    const again = path.join(tmp, 'plan', 'scale');
    fs.mkdirSync(again, { recursive: true });
    fs.copyFileSync(path.join(SCALE, 'grid.json'), path.join(again, 'grid.json'));
    const planned = path.join(again, 'jobs.jsonl');
    await nsynthOk(['render', '--plan', path.join(again, 'grid.json'), '--jobs', planned], { env: cleanEnv({}) });
    expect(fs.readFileSync(JOBS, 'utf8'), 'examples/scale/jobs.jsonl is stale: plan it again').toBe(
      fs.readFileSync(planned, 'utf8'),
    );
    expect(jobCount).toBe(9);
  });
});

describe('examples/scale/render-local.sh', () => {
  const script = path.join(SCALE, 'render-local.sh');
  const parallel = spawnSync('sh', ['-c', 'command -v parallel'], { encoding: 'utf8' }).status === 0;
  const base = { NSYNTH: wrapper, JOBS, MODEL: model, GPUS: '0' };

  it('three shards by xargs -P render the set (extra arguments passed on), as one process does', {
    timeout: 180_000,
  }, async () => {
    const out = path.join(tmp, 'local');
    const r = await run('bash', [script, '--batch', '3'], cleanEnv({ ...base, OUT: out, SHARDS: '3', USE_XARGS: '1' }));
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/with xargs -P 3/);
    for (const i of [0, 1, 2]) expect(r.stdout).toContain(`shard ${i}/3: done`);
    const s = summaries(out);
    expect([...s.keys()].sort()).toEqual(['0-of-3', '1-of-3', '2-of-3']);
    for (const [label, x] of s) {
      expect(x.complete, label).toBe(true);
      expect(x.batch, `${label}: --batch 3 reached the shard`).toBe(3);
      expect(x.path).toBe(singlePath);
      expect(x.jobs).toMatchObject({ inShard: inShard(x.shard.index, 3), rendered: inShard(x.shard.index, 3) });
    }
    expect([...outputs(out).keys()].filter((f) => f.endsWith('.wav'))).toHaveLength(jobCount);
    expectSameAsSingle(out);
    expect(fs.readdirSync(path.join(out, 'logs')).sort()).toEqual([
      'local-0-of-3.log',
      'local-1-of-3.log',
      'local-2-of-3.log',
    ]);

    // Run again (by GNU parallel where installed): everything is verified and skipped.
    const again = await run(
      'bash',
      [script],
      cleanEnv({ ...base, OUT: out, SHARDS: '3', ...(parallel ? {} : { USE_XARGS: '1' }) }),
    );
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(parallel ? /with GNU parallel/ : /with xargs -P 3/);
    for (const [label, x] of summaries(out))
      expect(x.jobs, label).toMatchObject({ rendered: 0, skipped: inShard(x.shard.index, 3), failed: 0 });
    expectSameAsSingle(out);
  });

  it('spreads the shards over GPUS GPUs through NSYNTH_ADAPTER=gpu:N, unless NSYNTH_ADAPTER is set', async () => {
    const fake = path.join(tmp, 'fake-nsynth');
    fs.writeFileSync(fake, '#!/bin/sh\necho "adapter=$NSYNTH_ADAPTER $*"\n', { mode: 0o755 });
    const logLines = (out: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        fs
          .readFileSync(path.join(out, 'logs', `local-${i}-of-${n}.log`), 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('adapter=')),
      );
    const pinned = path.join(tmp, 'local-pinned');
    const r = await run('bash', [script], cleanEnv({ ...base, NSYNTH: fake, OUT: pinned, SHARDS: '4', GPUS: '2' }));
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(logLines(pinned, 4).map((l) => l.map((x) => x.split(' ')[0]))).toEqual([
      ['adapter=gpu:0'],
      ['adapter=gpu:1'],
      ['adapter=gpu:0'],
      ['adapter=gpu:1'],
    ]);
    expect(logLines(pinned, 4)[3][0]).toContain(`render --jobs ${JOBS} --out ${pinned} --shard 3/4 --model ${model}`);
    const chosen = path.join(tmp, 'local-chosen');
    const env = cleanEnv({ ...base, NSYNTH: fake, OUT: chosen, SHARDS: '2', GPUS: '2', NSYNTH_ADAPTER: 'lavapipe' });
    expect((await run('bash', [script], env)).status).toBe(0);
    expect(
      logLines(chosen, 2)
        .flat()
        .map((x) => x.split(' ')[0]),
    ).toEqual(['adapter=lavapipe', 'adapter=lavapipe']);
  });

  it('a shard with a failed job makes the script exit 1, naming the shard and its log', {
    timeout: 120_000,
  }, async () => {
    const bad = path.join(tmp, 'bad.jsonl');
    fs.writeFileSync(bad, '{"notes":["absent.wav"],"seconds":0.1}\n');
    const out = path.join(tmp, 'local-bad');
    const r = await run('bash', [script], cleanEnv({ ...base, JOBS: bad, OUT: out, SHARDS: '2', USE_XARGS: '1' }));
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('shard 1/2: done'); // no jobs: nothing to fail
    expect(r.stderr).toContain(`shard 0/2: FAILED (exit 1); the end of ${out}/logs/local-0-of-2.log`);
    expect(r.stderr).toMatch(/absent\.wav: cannot read \(ENOENT\)/);
  });
});

describe('examples/scale/render-array.sbatch', () => {
  const script = path.join(SCALE, 'render-array.sbatch');
  const text = fs.readFileSync(script, 'utf8');
  const directives = [...text.matchAll(/^#SBATCH\s+(\S+)/gm)].map((m) => m[1]);

  /** Task ids of an --array spec: 0-15, 1,3,5-7, with an optional %throttle. */
  function arrayIds(spec: string): number[] {
    const ids: number[] = [];
    for (const part of spec.replace(/%\d+$/, '').split(',')) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(part);
      if (!m) throw new Error(`--array=${spec}: "${part}" is not a number or a range (steps are not for sharding)`);
      for (let id = Number(m[1]); id <= Number(m[2] ?? m[1]); id++) ids.push(id);
    }
    return ids;
  }

  it('asks Slurm for an array of one-GPU tasks that are requeued, with a log per task', () => {
    expect(directives).toContain('--requeue');
    expect(directives.some((d) => d === '--gpus-per-task=1' || d === '--gres=gpu:1')).toBe(true);
    expect(directives.find((d) => d.startsWith('--output='))).toMatch(/%A_%a/);
    expect(directives.find((d) => d.startsWith('--time='))).toBeDefined();
    expect(arrayIds('1-4,9%2')).toEqual([1, 2, 3, 4, 9]);
  });

  it('every task of the array, run as Slurm runs it, renders its shard; empty shards succeed', {
    timeout: 180_000,
  }, async () => {
    const spec = directives.find((d) => d.startsWith('--array='))!.slice('--array='.length);
    const ids = arrayIds(spec);
    expect(ids).toHaveLength(16);
    const count = ids.length;
    const min = Math.min(...ids);
    expect(ids).toEqual(Array.from({ length: count }, (_, k) => min + k)); // shard = id - min needs no gaps
    const out = path.join(tmp, 'slurm');
    const results = await inTurn(ids, CONCURRENCY, (id) =>
      run(
        'bash',
        [script],
        cleanEnv({
          NSYNTH: wrapper,
          JOBS,
          OUT: out,
          MODEL: model,
          SLURM_JOB_ID: String(5000 + id),
          SLURM_ARRAY_JOB_ID: '4999',
          SLURM_ARRAY_TASK_ID: String(id),
          SLURM_ARRAY_TASK_MIN: String(min),
          SLURM_ARRAY_TASK_MAX: String(Math.max(...ids)),
          SLURM_ARRAY_TASK_COUNT: String(count),
        }),
      ),
    );
    results.forEach((r, k) => {
      expect(r.status, `task ${ids[k]}: ${r.stderr}`).toBe(0);
    });
    const s = summaries(out);
    expect(s.size).toBe(count);
    const width = String(count - 1).length;
    for (let i = 0; i < count; i++) {
      const x = s.get(`${String(i).padStart(width, '0')}-of-${count}`);
      expect(x, `shard ${i}`).toBeDefined();
      expect(x!.complete).toBe(true);
      expect(x!.jobs).toMatchObject({ inShard: inShard(i, count), rendered: inShard(i, count), failed: 0 });
    }
    expect([...s.values()].filter((x) => x.jobs.inShard === 0)).toHaveLength(count - jobCount);
    expectSameAsSingle(out);
  });
});

// A small reader for the manifest's YAML (no YAML package is a dependency): block mappings and
// sequences, flow sequences of scalars, quoted and plain scalars, comments, `---` between
// documents. Anything else (block scalars, flow mappings, anchors) is refused, not misread.
type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

function parseYaml(text: string): Yaml[] {
  const uncomment = (s: string): string => {
    let quote = '';
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (quote) {
        if (c === quote) quote = '';
      } else if ((c === '"' || c === "'") && (i === 0 || /[\s[,:]/.test(s[i - 1]))) quote = c;
      else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]))) return s.slice(0, i);
    }
    return s;
  };
  const isItem = (t: string) => t === '-' || t.startsWith('- ');
  const scalar = (s: string, where: string): Yaml => {
    if (s.startsWith('[')) {
      if (!s.endsWith(']')) throw new Error(`${where}: a flow sequence on one line only`);
      const items = s.slice(1, -1).match(/"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^,]+/g) ?? [];
      return items
        .map((x) => x.trim())
        .filter((x) => x)
        .map((x) => scalar(x, where));
    }
    if (/^[{|>&*!%@`]/.test(s)) throw new Error(`${where}: "${s}" is more YAML than this reader reads`);
    if (s.startsWith('"')) return JSON.parse(s) as string;
    if (s.startsWith("'")) return s.slice(1, -1).replaceAll("''", "'");
    if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
    if (s === 'true' || s === 'false') return s === 'true';
    if (s === 'null' || s === '~') return null;
    return s;
  };
  return text
    .split(/^---[ \t]*$/m)
    .map((doc) => {
      const lines = doc
        .split('\n')
        .map((raw, n) => {
          const t = uncomment(raw).trimEnd();
          return { indent: t.length - t.trimStart().length, text: t.trim(), where: `line ${n + 1}` };
        })
        .filter((l) => l.text);
      let i = 0;
      const block = (indent: number): Yaml => (isItem(lines[i].text) ? seq(indent) : map(indent));
      const seq = (indent: number): Yaml[] => {
        const out: Yaml[] = [];
        while (i < lines.length && lines[i].indent === indent && isItem(lines[i].text)) {
          const l = lines[i];
          const rest = l.text.slice(1).trimStart();
          if (!rest) {
            i++;
            out.push(block(lines[i].indent));
          } else if (/^[^\s"'[{][^:]*:(\s|$)/.test(rest)) {
            // "- key: value": a mapping whose keys line up with this one
            lines[i] = { ...l, indent: indent + l.text.length - rest.length, text: rest };
            out.push(map(lines[i].indent));
          } else {
            out.push(scalar(rest, l.where));
            i++;
          }
        }
        return out;
      };
      const map = (indent: number): { [key: string]: Yaml } => {
        const out: { [key: string]: Yaml } = {};
        while (i < lines.length && lines[i].indent === indent && !isItem(lines[i].text)) {
          const l = lines[i];
          const m = /^([^:\s][^:]*?):(?:\s+(.*))?$/.exec(l.text);
          if (!m) throw new Error(`${l.where}: "${l.text}" is not "key: value"`);
          i++;
          const next = lines[i];
          if (m[2]) out[m[1]] = scalar(m[2], l.where);
          else if (next && (next.indent > indent || (next.indent === indent && isItem(next.text))))
            out[m[1]] = block(next.indent);
          else out[m[1]] = null;
        }
        return out;
      };
      if (!lines.length) return undefined;
      const value = block(lines[0].indent);
      if (i < lines.length) throw new Error(`${lines[i].where}: indentation out of place`);
      return value;
    })
    .filter((d): d is Yaml => d !== undefined);
}

describe('examples/scale/render-indexed-job.yaml', () => {
  const file = path.join(SCALE, 'render-indexed-job.yaml');
  // biome-ignore lint/suspicious/noExplicitAny: the manifest's shape is what these tests check
  const docs = parseYaml(fs.readFileSync(file, 'utf8')) as any[];
  const job = docs.find((d) => d.kind === 'Job');
  const pvc = docs.find((d) => d.kind === 'PersistentVolumeClaim');
  const pod = job?.spec?.template?.spec;
  const container = pod?.containers?.[0];
  const env = Object.fromEntries(
    (container?.env ?? []).map((e: { name: string; value: string }) => [e.name, e.value]),
  ) as Record<string, string>;

  it('reads as YAML: a claim and a Job', () => {
    expect(parseYaml('a: 1\nb:\n  - x: "y # z"\n    w: [p, "q", 3]\n  - v\nl:\n- 2\n---\nc: ~ # no\n')).toEqual([
      { a: 1, b: [{ x: 'y # z', w: ['p', 'q', 3] }, 'v'], l: [2] },
      { c: null },
    ]);
    expect(() => parseYaml('a: |\n  text\n')).toThrow(/more YAML than this reader reads/);
    expect(docs.map((d) => d.kind)).toEqual(['PersistentVolumeClaim', 'Job']);
  });

  it('is an Indexed Job of one-GPU pods whose shard count is its completions, retried per index', () => {
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.spec.completionMode).toBe('Indexed');
    const n = job.spec.completions;
    expect(Number.isInteger(n) && n > 1).toBe(true);
    expect(env.NSYNTH_SHARD_COUNT).toBe(String(n)); // a string, as Kubernetes wants env values
    expect(job.spec.parallelism).toBeLessThanOrEqual(n);
    expect(job.spec.backoffLimitPerIndex).toBeGreaterThan(0);
    expect(['Never', 'OnFailure']).toContain(pod.restartPolicy);
    expect(container.resources.limits['nvidia.com/gpu']).toBe(1);
    const args: string[] = [...container.command, ...container.args];
    expect(args[args.indexOf('--shard') + 1]).toBe('auto');
    expect(args).toContain('render');
    // jobs and outputs on the claim every pod mounts
    expect(pvc.spec.accessModes).toContain('ReadWriteMany');
    const volume = pod.volumes.find((v: { name: string }) => v.name === container.volumeMounts[0].name);
    expect(volume.persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
    const mounts: string[] = container.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
    expect(args[args.indexOf('--out') + 1]).toBe('/renders');
    for (const flag of ['--jobs', '--out'])
      expect(
        mounts.some((m) => args[args.indexOf(flag) + 1].startsWith(`${m}/`) || args[args.indexOf(flag) + 1] === m),
      ).toBe(true);
  });

  it("every index, run with the manifest's command and env on local paths, together renders what one process does", {
    timeout: 180_000,
  }, async () => {
    const n: number = job.spec.completions;
    const out = path.join(tmp, 'k8s');
    // The volume's paths here: the jobs file's folder (its notes lie beside it) and the output folder.
    const local: Record<string, string> = { '/data': SCALE, '/renders': out };
    for (const m of container.volumeMounts) expect(local[m.mountPath], m.mountPath).toBeDefined();
    const localPath = (a: string) => {
      const mount = Object.keys(local).find((m) => a === m || a.startsWith(`${m}/`));
      return mount ? local[mount] + a.slice(mount.length) : a;
    };
    const [command, ...rest] = [...container.command, ...container.args].map(localPath);
    expect(command).toBe('nsynth');
    // NSYNTH_ADAPTER=hardware would refuse this machine's software adapter: the test takes its own.
    const manifestEnv = { ...env };
    delete manifestEnv.NSYNTH_ADAPTER;
    const results = await inTurn(
      Array.from({ length: n }, (_, i) => i),
      Math.min(job.spec.parallelism, CONCURRENCY),
      (i) => run(wrapper, [...rest, '--model', model], cleanEnv({ ...manifestEnv, JOB_COMPLETION_INDEX: String(i) })),
    );
    results.forEach((r, i) => {
      expect(r.status, `index ${i}: ${r.stderr}`).toBe(0);
    });
    const s = summaries(out);
    expect([...s.keys()].sort()).toEqual(Array.from({ length: n }, (_, i) => `${i}-of-${n}`));
    for (const [label, x] of s) {
      expect(x.complete, label).toBe(true);
      expect(x.jobs.rendered, label).toBe(inShard(x.shard.index, n));
    }
    expectSameAsSingle(out);
  });
});
