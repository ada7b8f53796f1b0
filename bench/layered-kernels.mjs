#!/usr/bin/env node
// The layered generation path's two kernel sets, old (`tiles`: one thread per 4 outputs, each
// voice's inputs read by every lane) against `lanes` (inputs read once per 8-lane subgroup and
// shuffled round: gen_step_start_lanes, gen_gate_lanes, gen_res_skip_lanes), alternating in one
// process on one adapter, so the ratio holds on a noisy machine:
//   node bench/layered-kernels.mjs [config=h512_bo16|h512_short|default|NAME] [batch=1,16,32] [steps=64] [reps=3]
//                                  [sets=tiles,lanes] [cap=VOICES]
// A set may name a cap of its own, `lanes:10` (at most 10 voices an instance), to time the split
// against one instance in the same process, and `+f16` for the layered path's f16 storage
// (`lanes+f16`: past taps, current taps and [res | skip] as f16 pairs; weightStorage 'f16', else 'f32').
// `h512_short` is h512_bo16's widths and 30 layers as 6 stages of 5 (dilations up to 16): the same
// arithmetic a step, a 16x smaller history ring, so the storage-binding limit no longer splits a
// batch into instances; `cap` splits it on purpose (at most VOICES per instance), to time the split.
// A step's time is the difference of a long and a short stream (fixed costs cancel); the best of
// `reps` is reported, with the median, as samples/s, GFLOP/s and the fraction of the FMA probe
// (its median over probes taken before each rep).
// `nsynth bench generate --path layered` with NSYNTH_KERNELS=tiles or lanes measures the same
// through the CLI, with a 512-step warm-up per batch (minutes per row for h512_bo16 on a CPU).
import * as path from 'node:path';
import { streamSeconds, syntheticEmbeddings } from './stream-steps.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const load = (p) => import(path.join(root, 'dist', 'src', p));
const { createEngine } = await load('gpu/engine.js');
const { randomModel, loadModel } = await load('nsynth.js');
const { measureCeilings } = await load('bench/probes.js');
const { flopsPerSample } = await load('bench/plot.js');

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const cfg = args.config ?? 'h512_bo16';
const batches = (args.batch ?? '1,16,32').split(',').map(Number);
// 64: a difference of 48 steps; over 12 (steps=16) h512's figures moved +-30% and read low.
const steps = Number(args.steps ?? 64);
const reps = Number(args.reps ?? 3);
const sets = (args.sets ?? 'tiles,lanes').split(',');
const e = await createEngine();
const cap = args.cap === undefined ? undefined : Number(args.cap);
const shortDilations = async () => {
  const base = (await load('model/config.js')).getConfig('h512_bo16');
  const stages = { stages: 6, layersPerStage: 5 };
  return {
    ...base,
    name: 'h512_short',
    encoder: { ...base.encoder, ...stages },
    decoder: { ...base.decoder, ...stages },
  };
};
const model =
  cfg === 'default'
    ? await loadModel(e, path.join(root, 'weights/default'))
    : await randomModel(e, cfg === 'h512_short' ? await shortDilations() : cfg, 1);
const c = model.config;
const fps = flopsPerSample(c);
const ceil = await measureCeilings(e);
console.log(
  `adapter ${e.adapter.name}; config ${c.name}${cap ? `; at most ${cap} voices an instance` : ''}; read ${ceil.readGBps.toFixed(2)} GB/s, FMA ${ceil.fmaGflops.toFixed(1)} GFLOP/s; layered path; ${steps} steps`,
);
const short = Math.max(1, steps >> 2);
for (const B of batches) {
  const emb = syntheticEmbeddings(c, B, steps);
  const run = (n, setCap = cap, weightStorage = 'f32') =>
    streamSeconds(model, emb, n, { path: 'layered', maxVoicesPerInstance: setCap, weightStorage });
  const times = Object.fromEntries(sets.map((set) => [set, []]));
  const probes = [];
  // The kernel set is read when a generation instance is built: each run builds its own.
  const kernelsOf = (set) => set.split(':')[0].replace('+f16', '');
  const capOf = (set) => (set.includes(':') ? Number(set.split(':')[1]) : cap);
  const storageOf = (set) => (set.includes('+f16') ? 'f16' : 'f32');
  for (const set of sets) {
    process.env.NSYNTH_KERNELS = kernelsOf(set);
    await run(2, capOf(set), storageOf(set)); // compiles
  }
  for (let r = 0; r < reps; r++) {
    // the FMA probe between reps: this VM's probe moves by +-15% within minutes, so each figure is
    // reported against the median of the probes taken while it was measured
    probes.push((await measureCeilings(e)).fmaGflops);
    for (const set of sets) {
      process.env.NSYNTH_KERNELS = kernelsOf(set);
      const t1 = await run(short, capOf(set), storageOf(set));
      const t2 = await run(steps, capOf(set), storageOf(set));
      times[set].push((t2 - t1) / (steps - short));
    }
  }
  if (sets.some((set) => times[set].some((t) => t <= 0))) {
    console.log(`batch ${B}  steps too fast to time as a difference of ${short} and ${steps}: raise steps=`);
    continue;
  }
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const probe = median(probes);
  const cols = sets.map((set) => {
    const sps = 1 / Math.min(...times[set]);
    const gflops = (sps * B * fps) / 1e9;
    const medianGflops = (B * fps) / median(times[set]) / 1e9;
    return `${set}: ${sps.toFixed(2)} steps/s (median ${(1 / median(times[set])).toFixed(2)}), ${(sps * B).toFixed(1)} samples/s, ${gflops.toFixed(2)} GFLOP/s (${((100 * gflops) / probe).toFixed(0)}% of FMA; median ${((100 * medianGflops) / probe).toFixed(0)}%)`;
  });
  const ratios = sets
    .slice(1)
    .map((set) => `${set}/${sets[0]} ${(Math.min(...times[sets[0]]) / Math.min(...times[set])).toFixed(2)}x`);
  console.log(
    `batch ${B}  FMA probes ${Math.min(...probes).toFixed(1)}-${Math.max(...probes).toFixed(1)} (median ${probe.toFixed(1)})  |  ${cols.join('  |  ')}  |  ${ratios.join('  ')}`,
  );
}
const end = await measureCeilings(e);
console.log(`probes at the end: read ${end.readGBps.toFixed(2)} GB/s, FMA ${end.fmaGflops.toFixed(1)} GFLOP/s`);
model.dispose();
e.destroy();
