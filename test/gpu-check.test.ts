// bench/gpu-check.sh in its quick mode on whatever adapter the tests use (lavapipe here): every step
// passes and the one JSON file it writes has the machine, the run's provenance and each step's
// parsed output. The full run is for a GPU machine; this only checks the script's plumbing.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');

/** Runs bash SCRIPT ARGS asynchronously (a synchronous child would starve the vitest worker). */
function runBash(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr: Buffer.concat(err).toString('utf8') }));
  });
}

interface StepResult {
  ok: boolean;
  exitCode?: number;
  skipped?: string;
  command: string | null;
  output?: unknown;
  stderrTail?: string;
}

describe('bench/gpu-check.sh', () => {
  it('writes one JSON file with every step in quick mode', { timeout: 120_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-check-'));
    const out = path.join(dir, 'check.json');
    const r = await runBash(['bench/gpu-check.sh', out], {
      ...process.env,
      GPU_CHECK_QUICK: '1',
      // No apt-get from a test, and no NumPy timing (not what is checked here).
      GPU_CHECK_SETUP: '0',
      GPU_CHECK_NUMPY: '0',
      GPU_CHECK_BUDGET_S: '110',
      NSYNTH_ADAPTER: process.env.NSYNTH_ADAPTER ?? 'auto',
    });
    expect(fs.existsSync(out), r.stderr).toBe(true);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      machine: { uname: string; cpu: string | null; cpuCount: number; gpus: unknown };
      node: string;
      commit: string | null;
      started: string;
      finished: string;
      settings: { quick: boolean };
      failedSteps: string[];
      results: Record<string, StepResult>;
    };
    expect(report.failedSteps, r.stderr).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
    expect(report.machine.uname).toMatch(/Linux/);
    expect(report.machine.cpuCount).toBeGreaterThan(0);
    expect(report.node).toBe(process.version);
    expect(report.settings.quick).toBe(true);
    expect(Date.parse(report.finished)).toBeGreaterThanOrEqual(Date.parse(report.started));
    expect(Object.keys(report.results)).toEqual([
      'setup',
      'build',
      'adapter',
      'generate_big',
      'generate_default',
      'train',
      'train_recipe_batch',
      'render',
      'tfjs_graph',
      'plot',
    ]);

    const adapter = report.results.adapter.output as { adapter: { name: string }; ceilings: { readGBps: number } };
    expect(adapter.adapter.name).toBeTruthy();
    expect(adapter.ceilings.readGBps).toBeGreaterThan(0);
    for (const name of ['generate_big', 'generate_default']) {
      const rows = report.results[name].output as {
        batch: number;
        aggregateSamplesPerSecond: number;
        commit: unknown;
      }[];
      expect(rows.map((row) => row.batch)).toEqual([1]);
      expect(rows[0].aggregateSamplesPerSecond).toBeGreaterThan(0);
    }
    // the big-model run and the training bench carry each kernel's share of a step (--profile)
    const big = report.results.generate_big.output as { dispatchesPerStep: number; profile: { dispatches: number } }[];
    expect(big[0].profile.dispatches).toBeGreaterThan(0);
    const train = report.results.train.output as {
      rows: { config: string; dispatchesPerStep: number; profile: { dispatches: number } }[];
    };
    expect(train.rows.map((row) => row.config)).toEqual(['tiny']);
    expect(train.rows[0].profile.dispatches).toBe(train.rows[0].dispatchesPerStep);
    const render = report.results.render.output as { rows: { how: string; samplesPerSecond: number }[] };
    expect(render.rows.map((row) => row.how.split(' (')[0])).toEqual([
      'generate, one process per note',
      'render --batch 1',
      'render --batch 4',
    ]);
    for (const row of render.rows) expect(row.samplesPerSecond).toBeGreaterThan(0);
    const graph = report.results.tfjs_graph.output as { rows: { executor: string; logitsError: number }[] };
    expect(graph.rows.map((row) => row.executor)).toEqual(['nsynth-webgpu', 'tfjs webgpu']);
    expect(graph.rows[1].logitsError).toBeLessThan(1e-4);
    // The picture of each generation run lies beside the JSON (where dist/ has the plot module).
    const plot = report.results.plot;
    if (!plot.skipped)
      for (const file of (plot.output as { files: string[] }).files)
        expect(fs.statSync(file).size).toBeGreaterThan(1000);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('bench/gpu-kit.sh train', () => {
  // The training itself needs a GPU machine's kit (tried by hand on lavapipe; docs/training-recipe.md);
  // what a caller gets wrong is refused at once, naming it, before the kit is touched.
  it('refuses bad SECONDS and bad or repeated TRAIN_VARIANTS names, exit 2, writing nothing', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-kit-'));
    const target = path.join(out, 'never');
    const cases: [NodeJS.ProcessEnv, string, RegExp][] = [
      [{}, '10m', /SECONDS must be a whole number of seconds, 30 or more \(got '10m'\)/],
      [{}, '5', /SECONDS must be a whole number/],
      [{ TRAIN_VARIANTS: 'a=--batch 2;a=--batch 4' }, '100', /the name 'a' twice/],
      [{ TRAIN_VARIANTS: 'no name here' }, '100', /'no name here' is not NAME=OPTIONS/],
      [{ TRAIN_VARIANTS: 'bad/name=--batch 2' }, '100', /is not NAME=OPTIONS/],
      [{ TRAIN_VARIANTS: ' ; ' }, '100', /names no variant/],
    ];
    for (const [env, seconds, message] of cases) {
      const r = await runBash(['bench/gpu-kit.sh', 'train', target, seconds], { ...process.env, ...env });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(fs.existsSync(target)).toBe(false);
    fs.rmSync(out, { recursive: true, force: true });
  });
});
