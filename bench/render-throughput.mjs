#!/usr/bin/env node
// Bulk rendering against one note at a time, same model, same adapter, same run:
//   node bench/render-throughput.mjs [--jobs 32] [--seconds 0.5] [--batches 1,8,32] [--singles 6] [--model DIR]
// makes J jobs over the bundled notes (examples/notes/, seeds 0..J-1), then times
//   - `nsynth generate --input NOTE --seconds S` once per job, for the first `singles` jobs (one
//     process per note: what a loop over the CLI costs), and
//   - `nsynth render --batch B` over all J jobs, into a fresh folder per batch size,
// and prints samples/s of each and the ratio to the one-note-at-a-time loop (JSON with --json).
// Extra global options (e.g. --adapter lavapipe) go after `--`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const bin = path.join(root, 'bin', 'nsynth.js');
const args = process.argv.slice(2);
const dash = args.indexOf('--');
const extra = dash >= 0 ? args.slice(dash + 1) : [];
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && (dash < 0 || i < dash) ? args[i + 1] : dflt;
};
const J = Number(opt('jobs', 32));
const seconds = Number(opt('seconds', 0.5));
const batches = opt('batches', '1,8,32').split(',').map(Number);
const singles = Math.min(J, Number(opt('singles', 6)));
const model = opt('model', path.join(root, 'weights', 'default'));
const json = args.includes('--json');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-render-bench-'));
const notesDir = path.join(root, 'examples', 'notes');
const notes = fs
  .readdirSync(notesDir)
  .filter((f) => f.endsWith('.wav'))
  .sort();
const jobs = Array.from({ length: J }, (_, k) => ({
  notes: [path.join(notesDir, notes[k % notes.length])],
  seed: k,
  seconds,
  pitch: 60,
}));
const jobsFile = path.join(tmp, 'jobs.jsonl');
fs.writeFileSync(jobsFile, `${jobs.map((j) => JSON.stringify(j)).join('\n')}\n`);

function run(cliArgs) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...extra, ...cliArgs], {
    encoding: 'utf8',
    env: { ...process.env, NSYNTH_TUNING: process.env.NSYNTH_TUNING ?? 'off' },
  });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`nsynth ${cliArgs.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return { seconds: s, stdout: r.stdout };
}

// Samples per job: whole frames of the model's hop (512).
const samplesPerJob = Math.ceil((seconds * 16000) / 512) * 512;
let oneSeconds = 0;
for (let k = 0; k < singles; k++) {
  const j = jobs[k];
  oneSeconds += run([
    'generate',
    '--model',
    model,
    '--input',
    j.notes[0],
    '--pitch',
    '60',
    '--seconds',
    String(seconds),
    '--seed',
    String(j.seed),
    '--out',
    path.join(tmp, `single-${k}.wav`),
    '--quiet',
  ]).seconds;
}
const oneAtATime = (singles * samplesPerJob) / oneSeconds;
const rows = [
  { how: 'generate, one process per note', jobs: singles, seconds: oneSeconds, samplesPerSecond: oneAtATime, ratio: 1 },
];
let adapter = '';
for (const B of batches) {
  const out = path.join(tmp, `render-b${B}`);
  const r = run([
    'render',
    '--model',
    model,
    '--jobs',
    jobsFile,
    '--out',
    out,
    '--batch',
    String(B),
    '--json',
    '--quiet',
  ]);
  const summary = JSON.parse(r.stdout);
  adapter = summary.adapter;
  const sps = (J * samplesPerJob) / r.seconds;
  rows.push({
    how: `render --batch ${B} (${summary.path})`,
    jobs: J,
    seconds: r.seconds,
    samplesPerSecond: sps,
    ratio: sps / oneAtATime,
    generationSamplesPerSecond: summary.samplesPerSecond,
  });
}
fs.rmSync(tmp, { recursive: true, force: true });
if (json) console.log(JSON.stringify({ adapter, model, seconds, samplesPerJob, rows }, null, 1));
else {
  console.log(
    `adapter: ${adapter}; model ${model}; ${J} jobs of ${seconds} s (${samplesPerJob} samples); wall time per process included`,
  );
  for (const r of rows)
    console.log(
      `${r.how.padEnd(40)} ${String(r.jobs).padStart(4)} jobs ${r.seconds.toFixed(1).padStart(7)} s ${r.samplesPerSecond.toFixed(0).padStart(7)} samples/s  ${r.ratio.toFixed(2)}x`,
    );
}
