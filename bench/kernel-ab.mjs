#!/usr/bin/env node
// Whole generation steps with the kernels (WGSL) of a git revision against the working tree's,
// alternating in one process on one adapter: two engines, each reading its own kernel files, the
// same model, the same path. On the 2-core VM the probes and the kernels move by +-20% within
// minutes, so a change's ratio is only trustworthy taken this way (runs minutes apart disagreed
// by more than the changes being measured). Only the WGSL differs between the two sides: the host
// code is the working tree's, so a change to what the host passes a kernel (bindings, override
// constants) makes the revision's side fail to build, and says so.
//   node bench/kernel-ab.mjs [rev=HEAD] [config=h512_bo16] [batch=1,16,32] [path=layered]
//                            [storage=f16] [steps=48] [reps=7]
// Prints, per batch, each side's best and median samples/s (a step's time as the difference of
// a long and a short stream, so fixed costs cancel) and the ratio of the working tree to `rev`.
// The noise floor: with the same kernels on both sides (rev=HEAD, nothing changed) 3 reps at
// batch 16 read 1.11x best and 1.05x median on the 2-core VM; take 7 or more.
// Build first (`npx tsc -p tsconfig.json`); it loads dist/.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { streamSeconds, syntheticEmbeddings } from './stream-steps.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const load = (p) => import(path.join(root, 'dist', 'src', p));
const { createEngine } = await load('gpu/engine.js');
const { randomModel } = await load('nsynth.js');

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const rev = args.rev ?? 'HEAD';
const cfg = args.config ?? 'h512_bo16';
const batches = (args.batch ?? '1,16,32').split(',').map(Number);
const genPath = args.path ?? 'layered';
const weightStorage = args.storage ?? 'f16';
const steps = Number(args.steps ?? 48);
const reps = Number(args.reps ?? 7);

try {
  execFileSync('git', ['-C', root, 'rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { stdio: 'ignore' });
} catch {
  console.error(`kernel-ab: rev=${rev} is not a commit of ${root}`);
  process.exit(1);
}
const atRevision = (name) => {
  try {
    return execFileSync('git', ['-C', root, 'show', `${rev}:kernels/${name}.wgsl`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    throw new Error(`kernels/${name}.wgsl: not in revision ${rev} (git show failed)`);
  }
};
const inTree = (name) => fs.readFileSync(path.join(root, 'kernels', `${name}.wgsl`), 'utf8');
const sides = [
  { label: rev, kernelSource: atRevision },
  { label: 'working tree', kernelSource: inTree },
];
for (const side of sides) {
  side.engine = await createEngine({ kernelSource: side.kernelSource });
  side.model = await randomModel(side.engine, cfg, 1);
}
const c = sides[1].model.config;
console.log(
  `adapter ${sides[1].engine.adapter.name}; config ${c.name}; ${genPath} path, ${weightStorage} weights; ${rev} against the working tree`,
);
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const B of batches) {
  const emb = syntheticEmbeddings(c, B, steps);
  const run = (model, n) => streamSeconds(model, emb, n, { path: genPath, weightStorage });
  const short = steps >> 2;
  const times = sides.map(() => []);
  try {
    for (const side of sides) await run(side.model, 2); // compiles
    // the sides take turns going first, so that neither always runs after the other
    for (let r = 0; r < reps; r++)
      for (const i of r % 2 ? [1, 0] : [0, 1])
        times[i].push(((await run(sides[i].model, steps)) - (await run(sides[i].model, short))) / (steps - short));
  } catch (err) {
    console.log(`batch ${B}: ${err instanceof Error ? err.message.split('\n')[0] : err}`);
    continue;
  }
  const cols = sides.map(
    (side, i) =>
      `${side.label}: ${(B / Math.min(...times[i])).toFixed(1)} samples/s (median ${(B / median(times[i])).toFixed(1)})`,
  );
  const best = Math.min(...times[0]) / Math.min(...times[1]);
  const mid = median(times[0]) / median(times[1]);
  console.log(
    `batch ${B}  ${cols.join('  |  ')}  |  working tree / ${rev}: best ${best.toFixed(2)}x, median ${mid.toFixed(2)}x`,
  );
}
for (const side of sides) {
  side.model.dispose();
  side.engine.destroy();
}
