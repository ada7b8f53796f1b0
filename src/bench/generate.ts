// Fast-generation speed: `nsynth bench generate --config CONFIG --batch 1,4,16 --seconds S [--json]`.
// Per batch: samples/s per voice and in aggregate, real-time factor, dispatches per step, the
// weight bandwidth reached against the adapter's measured read ceiling, and in the same run the
// naive generator for one voice (speed-up = aggregate samples/s over it) and, where python3 with
// NumPy is installed, a NumPy/OpenBLAS step at the same batch, for the ratios.
import type { FusedShape } from '../ops/gen-step.js';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Engine } from '../gpu/engine.js';
import { loadModel, randomModel } from '../nsynth.js';
import { getConfig, decoderLayers, type ModelConfig } from '../model/config.js';
import { stepWeightBytes } from '../generate/route.js';
import type { GenerationPath } from '../generate/types.js';
import { writeFileAtomic } from '../formats/atomic-write.js';
import { flopsPerSample, generateBenchPlot } from './plot.js';
import type { PeerRow } from './peers/index.js';
import { packageRoot } from '../util/package-root.js';
import { profileTable } from './dispatch-profile.js';
import { measureGeneration, type GenerateBenchRow } from './generate-core.js';
import { type AdapterCeilings, ceilingsHeader, measureCeilings } from './probes.js';

// The row is defined with the measurement (generate-core.ts), which the browser bundle includes.
export type { GenerateBenchRow } from './generate-core.js';

export interface GenerateBenchOptions {
  config: string;
  /** A weights folder to measure instead of a random model of `config` (speed does not depend on the values). */
  model?: string;
  batches: number[];
  seconds: number;
  naiveSteps: number;
  json: boolean;
  /** Force a generation path (default `auto`). */
  path?: GenerationPath;
  /** The fused path's weight storage (default `auto`). */
  weightStorage?: 'auto' | 'f32' | 'f16';
  /** The fused path's workgroup shape, forcing the tuned one (with `path: 'fused'`). */
  fusedShape?: FusedShape;
  /** Draw aggregate samples/s against batch with the adapter's ceilings to this PNG (and an SVG beside it). */
  plot?: string;
  /** Peers to time in the same run (src/bench/peers: 'tfjs-webgpu', 'tfjs-wasm', 'cpu-ts', or 'all'). */
  peers?: string[];
  /** Seconds each peer may take per batch size (they time a shorter run and say so); default 60. */
  peerBudgetSeconds?: number;
  /** Also time each dispatch of one step on the GPU (timestamp queries), per kernel. */
  profile?: boolean;
}

/** A peer's figure at one batch, beside ours (GenerateBenchRow.peers). */
export interface PeerFigure {
  peer: string;
  /** How it ran: backend, settings, and "timed N of T steps" where the run was shortened. */
  detail: string;
  samplesPerSecond: number;
  aggregateSamplesPerSecond: number;
  /** Our samples/s over the peer's, at the same batch. */
  ours: number;
}

function numpyStep(R: number, S: number, L: number, lps: number, B: number, steps: number): number | null {
  const src = path.join(packageRoot(), 'src', 'bench', 'numpy_step.py');
  if (!fs.existsSync(src)) return null;
  const r = spawnSync('python3', [src, String(R), String(S), String(L), String(lps), String(B), String(steps)], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) return null;
  try {
    return (JSON.parse(r.stdout.trim()) as { samplesPerSecond: number }).samplesPerSecond;
  } catch {
    return null;
  }
}

export async function runGenerateBench(engine: Engine, o: GenerateBenchOptions): Promise<GenerateBenchRow[]> {
  if (o.peers?.length) {
    // a misspelt peer is refused now, not after minutes of measuring ours
    const { PEER_NAMES } = await import('./peers/index.js');
    const known: readonly string[] = PEER_NAMES;
    const bad = o.peers.filter((p) => p !== 'all' && !known.includes(p));
    if (bad.length) throw new Error(`unknown peer ${bad.join(', ')} (known: all, ${PEER_NAMES.join(', ')})`);
  }
  const ceilings = await measureCeilings(engine);
  const model = o.model ? await loadModel(engine, o.model) : await randomModel(engine, getConfig(o.config), 1);
  const c = model.config;
  let rows: (GenerateBenchRow & { peers?: PeerFigure[] })[];
  const peerRows: PeerRow[] = [];
  try {
    rows = await measureGeneration(engine, model, {
      batches: o.batches,
      seconds: o.seconds,
      naiveSteps: o.naiveSteps,
      ceilings,
      path: o.path,
      weightStorage: o.weightStorage,
      fusedShape: o.fusedShape,
      profile: o.profile,
      // the kernels timed under `auto` (once per adapter, config and batch bucket), on stderr
      onTuning: (line) => console.error(line),
    });
    if (o.peers?.length) {
      // the same generation written with TensorFlow.js (and plain TypeScript), after ours, in this process
      const { benchPeers, PEER_NAMES } = await import('./peers/index.js');
      const names = o.peers.includes('all') ? [...PEER_NAMES] : o.peers;
      peerRows.push(
        ...(await benchPeers(model, {
          batches: o.batches,
          seconds: o.seconds,
          seed: 1,
          peers: names,
          budgetSeconds: o.peerBudgetSeconds,
          onLog: (line) => console.error(line),
        })),
      );
      for (const r of rows)
        r.peers = peerRows
          .filter((p) => p.batch === r.batch)
          .map((p) => ({
            peer: p.peer,
            detail: p.detail,
            samplesPerSecond: p.samplesPerSecond,
            aggregateSamplesPerSecond: p.aggregateSamplesPerSecond,
            ours: r.samplesPerSecond / p.samplesPerSecond,
          }));
    }
  } finally {
    model.dispose();
  }
  // NumPy runs after all the GPU timing, so neither competes with the other for the cores.
  for (const r of rows) {
    const np = numpyStep(
      c.decoder.residual,
      c.decoder.skip,
      decoderLayers(c),
      c.decoder.layersPerStage,
      r.batch,
      Math.max(8, Math.min(200, Math.round(r.samplesPerSecond))),
    );
    r.numpySamplesPerSecond = np;
    r.ratioToNumpy = np ? r.samplesPerSecond / np : null;
  }
  if (o.plot) writeGeneratePlot(o.plot, rows, c, peerRows);
  if (o.json) console.log(JSON.stringify(rows, null, 2));
  else {
    printGenerateTable(rows, o.seconds, ceilings);
    for (const r of rows)
      if (r.profile) console.log(`\nbatch ${r.batch} (${r.kernel}): one step, per kernel\n${profileTable(r.profile)}`);
    if (peerRows.length) {
      console.log('peers (same weights, conditioning and random stream; same process):');
      for (const r of rows)
        for (const p of r.peers ?? [])
          console.log(
            `${String(r.batch).padStart(5)}  ${p.peer.padEnd(12)}  ${p.samplesPerSecond.toFixed(2).padStart(10)} samples/s/voice  ours ${p.ours.toFixed(2)}x  (${p.detail})`,
          );
    }
  }
  return rows;
}

/**
 * The table `nsynth bench generate` prints. Without `ceilings` (rows from a browser, where the
 * dispatch cost is not handed back) the header gives the read and FMA ceilings the rows carry.
 */
/** `--plot OUT.png`: the rows (and any peers') aggregate samples/s against batch, with the ceilings; an SVG beside it. */
export function writeGeneratePlot(
  file: string,
  rows: GenerateBenchRow[],
  c: ModelConfig,
  peers: { peer: string; batch: number; aggregateSamplesPerSecond: number }[] = [],
): void {
  const first = rows[0];
  if (!first) return;
  const { svg, png } = generateBenchPlot({
    rows,
    peers,
    ceilings: { readGBps: first.readCeilingGBps, fmaGflops: first.fmaCeilingGflops },
    stepWeightBytes: stepWeightBytes(c),
    flopsPerSample: flopsPerSample(c),
    title: `nsynth bench generate, ${c.name}, on ${first.adapter}`,
  });
  writeFileAtomic(file, png);
  writeFileAtomic(`${file.replace(/\.png$/i, '')}.svg`, svg);
  console.error(`wrote ${file}`);
}

export function printGenerateTable(rows: GenerateBenchRow[], seconds: number, ceilings?: AdapterCeilings): void {
  const first = rows[0];
  if (!first) return;
  console.log(
    ceilings
      ? ceilingsHeader(first.adapter, ceilings)
      : `adapter: ${first.adapter}\nceilings: read ${first.readCeilingGBps.toFixed(2)} GB/s, FMA ${first.fmaCeilingGflops.toFixed(1)} GFLOP/s`,
  );
  console.log(`config ${first.config}; ${seconds} s per batch size`);
  console.log(
    'batch  kernels                 samples/s/voice  aggregate  realtime  dispatches/step  weights GB/s (of read ceiling)  naive (1 voice)  speed-up  NumPy samples/s/voice  ratio',
  );
  for (const r of rows) {
    console.log(
      `${String(r.batch).padStart(5)}  ${(r.kernel ?? `${r.path}${r.weightStorage === 'f16' ? ' f16' : ''}`).padEnd(22)}  ${r.samplesPerSecond.toFixed(1).padStart(15)}  ${r.aggregateSamplesPerSecond.toFixed(1).padStart(9)}  ${r.realtimeFactor.toFixed(4).padStart(8)}  ` +
        `${(r.dispatchesPerStep < 1 ? r.dispatchesPerStep.toFixed(3) : String(r.dispatchesPerStep)).padStart(15)}  ${r.weightGBps.toFixed(2).padStart(12)} (${(100 * r.weightBandwidthFraction).toFixed(0)}%)`.padEnd(
          33,
        ) +
        `  ${r.naiveSamplesPerSecond.toFixed(2).padStart(15)}  ${r.speedupOverNaive.toFixed(0).padStart(7)}x  ` +
        `${r.numpySamplesPerSecond?.toFixed(1).padStart(21) ?? '                    -'}  ${r.ratioToNumpy ? `${r.ratioToNumpy.toFixed(2)}x` : '-'}`,
    );
  }
}
