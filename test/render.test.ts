// `nsynth render` (src/render/): jobs files checked line by line, shards from the schedulers'
// variables, grids expanded, and the batch job's promises kept in real processes: N shards give the
// single process's files byte for byte, a killed shard re-run finishes the set without rendering
// anything twice, and damaged outputs are found and rendered again.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../src/formats/wav.js';
import { randomModel } from '../src/nsynth.js';
import { expandGrid, mixPoints, parseGrid, planGrid } from '../src/render/grid.js';
import { parseJob, readJobs } from '../src/render/jobs.js';
import { jobId, type JobIdentity } from '../src/render/outputs.js';
import type { RenderSummary } from '../src/render/render.js';
import { inShard, parseShard, shardFromEnv } from '../src/render/shard.js';
import { BIN, nsynth, nsynthOk } from './cli-run.js';
import { testEngine } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-render-'));

describe('jobs, shards and grids', () => {
  it('a bad job line stops the run naming file and line; defaults fill the rest', async () => {
    const base = '/data';
    const ok = parseJob('{"notes":["a.wav"],"seed":3}', 'j:1', base, 1, 0);
    expect(ok).toMatchObject({ inputs: [{ kind: 'note', file: '/data/a.wav' }], mix: [1], seed: 3, temperature: 1 });
    const bad: [string, RegExp][] = [
      ['not json', /j:7: not JSON/],
      ['[1]', /a job is a JSON object/],
      ['{"notes":["a.wav"],"colour":1}', /unknown field "colour"/],
      ['{"seed":1}', /needs "notes".*or "embeddings"/],
      ['{"notes":["a.wav","b.wav"]}', /2 inputs need "mix"/],
      ['{"notes":["a.wav","b.wav"],"mix":[1]}', /"mix" has 1 weights for 2 inputs/],
      ['{"notes":["a.wav"],"seed":-1}', /"seed" must be an integer/],
      ['{"notes":["a.wav"],"pitch":128}', /"pitch" must be an integer in \[0, 127\]/],
      ['{"notes":["a.wav"],"seconds":0}', /"seconds" must be above 0/],
      ['{"notes":[""]}', /list of file paths/],
    ];
    for (const [line, err] of bad) expect(() => parseJob(line, 'j:7', base, 7, 0), line).toThrow(err);
    const file = path.join(tmp, 'bad.jsonl');
    fs.writeFileSync(file, '{"notes":["a.wav"]}\n\n{"notes":["a.wav"],"mix":[1,2]}\n');
    await expect(readJobs(file)).rejects.toThrow(`${file}:3: "mix" has 2 weights for 1 inputs`);
    fs.writeFileSync(file, '\n\n');
    await expect(readJobs(file)).rejects.toThrow(/no jobs/);
    fs.writeFileSync(file, `{"notes":["a.wav"]}\r\n${'x'.repeat(200_000)}`); // no newline: refused as it grows
    await expect(readJobs(file)).rejects.toThrow(`${file}:2: a line of over 65536 characters`);
    fs.writeFileSync(file, '{"notes":["a.wav"]}\r\n{"notes":["b.wav"],"seed":2}');
    const read = await readJobs(file, (k) => k === 1);
    expect(read.jobs.map((j) => [j.line, j.index, j.seed])).toEqual([[2, 1, 2]]);
    expect(read.sha256).toMatch(/^[0-9a-f]{64}$/);
    await expect(readJobs(path.join(tmp, 'absent.jsonl'))).rejects.toThrow(/cannot read the jobs file \(ENOENT\)/);
  });

  it('shards: i/N, NSYNTH_SHARD, Kubernetes Indexed Jobs and Slurm arrays; every job in exactly one shard', () => {
    expect(parseShard('3/16')).toEqual({ index: 3, count: 16 });
    for (const t of ['16/16', '1', 'a/b', '-1/4', '0/0']) expect(() => parseShard(t), t).toThrow(/--shard/);
    expect(shardFromEnv({ NSYNTH_SHARD: '2/5' })).toEqual({ index: 2, count: 5 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '4', NSYNTH_SHARD_COUNT: '8' })).toEqual({ index: 4, count: 8 });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '4' })).toThrow(/NSYNTH_SHARD_COUNT is not/);
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '10' })).toEqual(
      {
        index: 6,
        count: 10,
      },
    );
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '10', SLURM_ARRAY_TASK_COUNT: '10' })).toThrow(
      /outside \[0, 10\)/,
    );
    // --array=0-30:2 (16 tasks): task 8 is shard 4
    const stepped = { SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_COUNT: '16' };
    expect(shardFromEnv({ ...stepped, SLURM_ARRAY_TASK_ID: '8' })).toEqual({ index: 4, count: 16 });
    expect(() => shardFromEnv({ ...stepped, SLURM_ARRAY_TASK_ID: '7' })).toThrow(/not MIN \+ k \* STEP/);
    expect(() => shardFromEnv({})).toThrow(/none of NSYNTH_SHARD/);
    const owners = Array.from({ length: 100 }, (_, k) => [0, 1, 2].filter((i) => inShard({ index: i, count: 3 })(k)));
    expect(owners.every((o) => o.length === 1)).toBe(true);
  });

  it('a grid expands to sets x pitches x mix points, bilinear on a square, zero weights left out', () => {
    const pts = mixPoints(4, 3);
    expect(pts).toHaveLength(9);
    for (const p of pts) expect(p.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(pts[4].weights).toEqual([0.25, 0.25, 0.25, 0.25]);
    const grid = parseGrid(
      JSON.stringify({
        sets: [['a-{pitch:03}.wav', 'b-{pitch}.wav', 'c.wav', 'd.npy'], ['a-{pitch:03}.wav']],
        pitches: [48, 60],
        resolution: 3,
        seed: 5,
      }),
      'grid.json',
    );
    const lines = [...expandGrid(grid, '/g', '/g/jobs')].map((l) => JSON.parse(l));
    // set 1's lone note at each pitch is set 0's first corner there: one job, not two
    expect(lines).toHaveLength((9 + 1) * 2 - 2);
    expect(lines[0]).toEqual({ notes: ['../a-048.wav'], pitch: 48, seed: 5, name: 'set0-p48-x0-y0' });
    expect(lines[4]).toMatchObject({ notes: ['../a-048.wav', '../b-48.wav', '../c.wav'], embeddings: ['../d.npy'] });
    expect(lines[4].mix).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(lines.filter((l) => l.notes?.length === 1 && l.notes[0] === '../a-048.wav')).toHaveLength(1);
    for (const [g, err] of [
      [{ sets: [['a', 'b', 'c']], pitches: [60] }, /sets of 1, 2 or 4/],
      [{ sets: [['a']], pitches: [200] }, /MIDI pitches/],
      [{ sets: [['a']], pitches: [60], resolution: 1 }, /"resolution"/],
      [{ sets: [['a']], pitches: [60], size: 3 }, /unknown field "size"/],
      [{ sets: [['a', 'b', 'c', 'd']], pitches: Array(128).fill(60), resolution: 1000 }, /over 1000000/],
    ] as const)
      expect(() => parseGrid(JSON.stringify(g), 'grid.json')).toThrow(err);
  });

  it('--plan replaces only an absent, empty or jobs file: a render command with --plan added cannot destroy a WAV', () => {
    const grid = path.join(tmp, 'plan-grid.json');
    fs.writeFileSync(grid, JSON.stringify({ sets: [['a-{pitch:03}.wav']], pitches: [60, 62] }));
    const victim = path.join(tmp, 'victim.wav');
    const wav = encodeWav(new Float32Array(512));
    fs.writeFileSync(victim, wav);
    expect(() => planGrid(grid, victim)).toThrow(/victim\.wav: exists and is not a jobs file/);
    expect(fs.readFileSync(victim).equals(Buffer.from(wav))).toBe(true);
    const jobs = path.join(tmp, 'plan.jsonl');
    expect(planGrid(grid, jobs)).toBe(2);
    expect(planGrid(grid, jobs)).toBe(2); // a jobs file is replaced by a new plan
    fs.writeFileSync(jobs, '');
    expect(planGrid(grid, jobs)).toBe(2);
    expect(() => planGrid(grid, grid)).toThrow(/plan-grid\.json: is the grid itself/);
    const pkg = path.join(tmp, 'pkg.json');
    fs.writeFileSync(pkg, '{"name":"an app","version":"1.0.0"}');
    expect(() => planGrid(grid, pkg)).toThrow(/pkg\.json: exists and is not a jobs file/);
  });

  it("an output's id covers everything its audio depends on, and nothing else", () => {
    const j: JobIdentity = {
      model: 'm',
      inputs: [{ kind: 'note', sha256: 'a' }],
      mix: [1],
      pitch: 60,
      seed: 1,
      seconds: null,
      temperature: 1,
      depth: '16',
    };
    const id = jobId(j);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(jobId({ ...j })).toBe(id);
    const changed: Partial<JobIdentity>[] = [
      { model: 'n' },
      { inputs: [{ kind: 'embedding', sha256: 'a' }] },
      { mix: [0.5] },
      { pitch: 61 },
      { seed: 2 },
      { seconds: 1 },
      { temperature: 0.5 },
      { depth: '32f' },
    ];
    expect(new Set(changed.map((c) => jobId({ ...j, ...c }))).size).toBe(changed.length);
    expect(changed.map((c) => jobId({ ...j, ...c }))).not.toContain(id);
  });
});

/** Every file under `dir` except the shards' bookkeeping, with its bytes. */
function outputs(dir: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const sub of fs.readdirSync(dir)) {
    if (sub === 'shards') continue;
    for (const f of fs.readdirSync(path.join(dir, sub))) m.set(`${sub}/${f}`, fs.readFileSync(path.join(dir, sub, f)));
  }
  return m;
}

function summaryOf(dir: string, label: string): RenderSummary {
  return JSON.parse(fs.readFileSync(path.join(dir, 'shards', `${label}.json`), 'utf8')) as RenderSummary;
}

describe('nsynth render in processes', () => {
  const model = path.join(tmp, 'model');
  const jobs = path.join(tmp, 'jobs.jsonl');
  const JOBS = 9;
  const env = { ...process.env, NSYNTH_TUNING: 'off' };
  let single = new Map<string, Buffer>();

  beforeAll(async () => {
    // A pitch-conditioned random model and notes named as NSynth's (the pitch comes from the name).
    const m = await randomModel(await testEngine(), 'tiny_pitch', 3);
    await m.save(model);
    m.dispose();
    const notes = [48, 55, 60, 67].map((midi, k) => {
      const f = path.join(tmp, `synth_test_00${k}-0${midi}-100.wav`);
      const hz = 440 * 2 ** ((midi - 69) / 12);
      const a = Float32Array.from(
        { length: 8000 },
        (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / 16000) * Math.exp(-i / 6000),
      );
      fs.writeFileSync(f, encodeWav(a, 16000, '16'));
      return path.basename(f);
    });
    const lines = Array.from({ length: JOBS }, (_, k) =>
      k % 3 === 2
        ? { notes: [notes[k % 4], notes[(k + 1) % 4]], mix: [0.3, 0.7], seed: k, seconds: 0.25, name: `mix${k}` }
        : { notes: [notes[k % 4]], seed: k, seconds: k % 2 ? 0.25 : 0.2, temperature: k === 4 ? 0.5 : 1 },
    );
    fs.writeFileSync(jobs, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  });

  it("three shards in three processes write the single process's files byte for byte", {
    timeout: 300_000,
  }, async () => {
    const one = path.join(tmp, 'one');
    const s = JSON.parse(
      await nsynthOk(['render', '--jobs', jobs, '--out', one, '--model', model, '--batch', '4', '--json'], { env }),
    );
    expect(s.jobs).toMatchObject({ inShard: JOBS, rendered: JOBS, skipped: 0, failed: 0 });
    expect(s.complete).toBe(true);
    single = outputs(one);
    expect(single.size).toBe(2 * JOBS); // a WAV and a sidecar per job
    const index = fs
      .readFileSync(path.join(one, 'shards', '0-of-1.index.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(index.map((r) => r.line)).toEqual(Array.from({ length: JOBS }, (_, k) => k + 1));
    for (const r of index) expect(single.has(r.wav)).toBe(true);

    // shard 0 named on the command line, 1 by NSYNTH_SHARD, 2 as a Slurm array task (from 1), all at once
    const sharded = path.join(tmp, 'sharded');
    const base = ['render', '--jobs', jobs, '--out', sharded, '--model', model, '--batch', '2'];
    await Promise.all([
      nsynthOk([...base, '--shard', '0/3'], { env }),
      nsynthOk([...base, '--shard', 'auto'], { env: { ...env, NSYNTH_SHARD: '1/3' } }),
      nsynthOk([...base, '--shard', 'auto'], {
        env: { ...env, SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '3' },
      }),
    ]);
    expect([0, 1, 2].map((i) => summaryOf(sharded, `${i}-of-3`).jobs.rendered)).toEqual([3, 3, 3]);
    const got = outputs(sharded);
    expect([...got.keys()].sort()).toEqual([...single.keys()].sort());
    for (const [f, bytes] of single) if (f.endsWith('.wav')) expect(got.get(f)!.equals(bytes), f).toBe(true);
  });

  it('a shard killed mid-run and run again finishes the set, rendering nothing twice', {
    timeout: 300_000,
  }, async () => {
    const out = path.join(tmp, 'killed');
    const args = [BIN, 'render', '--jobs', jobs, '--out', out, '--model', model, '--batch', '1'];
    const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    // Kill it once a first output is complete.
    const t0 = Date.now();
    const sidecars = () => (fs.existsSync(out) ? outputs(out) : new Map<string, Buffer>());
    while (![...sidecars().keys()].some((f) => f.endsWith('.json')) && Date.now() - t0 < 120_000)
      await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await exited;
    const before = new Map(
      [...sidecars()].filter(([f]) => f.endsWith('.json')).map(([f]) => [f, fs.statSync(path.join(out, f)).mtimeMs]),
    );
    expect(before.size).toBeGreaterThan(0);
    expect(before.size).toBeLessThan(JOBS);
    const s = JSON.parse(await nsynthOk(['render', '--jobs', jobs, '--out', out, '--model', model, '--json'], { env }));
    expect(s.jobs.skipped + s.jobs.rendered).toBe(JOBS);
    expect(s.jobs.skipped).toBe(before.size);
    for (const [f, mtime] of before) expect(fs.statSync(path.join(out, f)).mtimeMs, `${f} untouched`).toBe(mtime);
    const got = outputs(out);
    for (const [f, bytes] of single) if (f.endsWith('.wav')) expect(got.get(f)?.equals(bytes), f).toBe(true);
    // no temporary files left by the killed process that matter: every file is an output
    expect([...got.keys()].every((f) => /\.(wav|json)$/.test(f) || f.endsWith('.tmp'))).toBe(true);
  });

  it('SIGTERM (preemption) stops after the batch in progress: exit 130, its outputs written, the summary says incomplete', {
    timeout: 300_000,
  }, async () => {
    const out = path.join(tmp, 'terminated');
    const args = [BIN, 'render', '--jobs', jobs, '--out', out, '--model', model, '--batch', '1', '--json'];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const t0 = Date.now();
    const done = () => (fs.existsSync(out) ? [...outputs(out).keys()].filter((f) => f.endsWith('.json')).length : 0);
    while (done() === 0 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/terminated: stopping after the batch in progress/);
    const s = JSON.parse(stdout) as RenderSummary;
    expect(s.complete).toBe(false);
    expect(s.jobs.rendered).toBe(done()); // every batch begun was finished and written
    expect(s.jobs.rendered).toBeLessThan(JOBS);
    const again = JSON.parse(
      await nsynthOk(['render', '--jobs', jobs, '--out', out, '--model', model, '--json'], { env }),
    );
    expect(again.jobs).toMatchObject({ skipped: s.jobs.rendered, rendered: JOBS - s.jobs.rendered });
    expect(again.complete).toBe(true);
  });

  it('damaged outputs (a flipped byte, a truncated WAV, a lost sidecar) are found and rendered again', {
    timeout: 300_000,
  }, async () => {
    const out = path.join(tmp, 'one');
    const wavs = [...single.keys()].filter((f) => f.endsWith('.wav')).sort();
    const flip = path.join(out, wavs[0]);
    const b = fs.readFileSync(flip);
    b[b.length - 3] ^= 0xff;
    fs.writeFileSync(flip, b);
    fs.truncateSync(path.join(out, wavs[1]), 100);
    fs.rmSync(path.join(out, wavs[2].replace(/\.wav$/, '.json')));
    const r = await nsynth(['render', '--jobs', jobs, '--out', out, '--model', model, '--json'], { env });
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.jobs).toMatchObject({ rendered: 3, skipped: JOBS - 3, rerendered: 3 });
    expect(s.rerendered.map((x: { why: string }) => x.why).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/checksum/), expect.stringMatching(/bytes/), 'no sidecar']),
    );
    expect(r.stderr).toMatch(/is damaged .*rendering it again/);
    const got = outputs(out);
    for (const [f, bytes] of single) if (f.endsWith('.wav')) expect(got.get(f)!.equals(bytes), f).toBe(true);
  });

  it('a job whose input is missing, or too long for the adapter, fails alone, named with its line; the others render', {
    timeout: 120_000,
  }, async () => {
    const bad = path.join(tmp, 'bad-input.jsonl');
    const [first, second] = fs.readFileSync(jobs, 'utf8').split('\n');
    const tooLong = { ...JSON.parse(second), seconds: 3000 }; // ~94,000 frames: more than one binding holds
    fs.writeFileSync(bad, `${first}\n{"notes":["absent.wav"],"seconds":0.1}\n${JSON.stringify(tooLong)}\n`);
    const out = path.join(tmp, 'one'); // the first job is done there already
    const r = await nsynth(['render', '--jobs', bad, '--out', out, '--model', model, '--json'], { env });
    expect(r.status).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s.jobs).toMatchObject({ inShard: 3, skipped: 1, failed: 2, rendered: 0 });
    expect(s.complete).toBe(true);
    expect(s.failures.map((f: { line: number }) => f.line)).toEqual([2, 3]);
    expect(s.failures[0].reason).toMatch(/absent\.wav: cannot read \(ENOENT\)/);
    expect(s.failures[1].reason).toMatch(/binding|GPU memory/);
    expect(r.stderr).toMatch(/2 jobs failed/);
    const index = fs
      .readFileSync(path.join(out, 'shards', '0-of-1.index.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(index.map((l) => JSON.parse(l).status)).toEqual(['skipped', 'failed', 'failed']);
  });
});
