// Throughput of the encoder and the teacher-forced decoder (whole sequences, parallel in time),
// next to the adapter's measured ceilings. `nsynth bench forward [--json]`.
import type { Engine } from '../gpu/engine.js';
import { countOps } from '../graph/gpu-plan.js';
import { decoder, encoder } from '../graph/wavenet.js';
import { randomModel } from '../nsynth.js';
import { getConfig, decoderLayers, encoderLayers, type ModelConfig } from '../model/config.js';
import { ceilingsHeader, measureCeilings, type AdapterCeilings } from './probes.js';

export interface ForwardBenchOptions {
  configs: string[];
  seconds: number;
  batch: number;
  json: boolean;
}

export interface ForwardBenchRow {
  config: string;
  batch: number;
  samples: number;
  encoderSamplesPerSecond: number;
  decoderSamplesPerSecond: number;
  encoderGflops: number;
  decoderGflops: number;
  encoderDispatches: number;
  decoderDispatches: number;
}

/** Multiply-adds per sample (the arithmetic the kernels must do), from the config. */
export function macsPerSample(c: ModelConfig): { encoder: number; decoder: number } {
  const K = c.filterLength;
  const we = c.encoder.width;
  const { residual: R, skip: S } = c.decoder;
  const encoder = K * we + encoderLayers(c) * (K * we * we + we * we) + we * c.bottleneck;
  const L = decoderLayers(c);
  const decoder = K * R + R * S + L * (K * R * 2 * R + R * S) + (L - 1) * R * R + S * S + S * c.numClasses;
  return { encoder, decoder };
}

/** The fastest of `reps` timed runs after one untimed warm-up run, in seconds. */
export async function best(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn(); // warm-up builds the plan
  let bestS = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    bestS = Math.min(bestS, (performance.now() - t0) / 1000);
  }
  return bestS;
}

export async function runForwardBench(
  engine: Engine,
  o: ForwardBenchOptions,
): Promise<{ adapter: string; ceilings: AdapterCeilings; rows: ForwardBenchRow[] }> {
  const ceilings = await measureCeilings(engine);
  const rows: ForwardBenchRow[] = [];
  for (const name of o.configs) {
    const c = getConfig(name);
    const samples = Math.max(c.hop, Math.round((o.seconds * c.sampleRate) / c.hop) * c.hop);
    const model = await randomModel(engine, c, 1);
    const notes = Array.from({ length: o.batch }, (_, b) =>
      Float32Array.from({ length: samples }, (_, t) => 0.5 * Math.sin((t * (b + 1)) / 9)),
    );
    const emb = await model.encode(notes);
    const reps = engine.adapter.type === 'cpu' ? 1 : 5;
    const encS = await best(async () => void (await model.encode(notes)), reps);
    // Pitch-conditioned configs need a pitch per note (any: it does not change the arithmetic).
    const pitch = c.pitchConditioning ? notes.map(() => 60) : undefined;
    const decS = await best(async () => void (await model.teacherForcedLogits(notes, emb, { pitch })), reps);
    const macs = macsPerSample(c);
    const total = samples * o.batch;
    rows.push({
      config: name,
      batch: o.batch,
      samples,
      encoderSamplesPerSecond: total / encS,
      decoderSamplesPerSecond: total / decS,
      encoderGflops: (2 * macs.encoder * total) / encS / 1e9,
      decoderGflops: (2 * macs.decoder * total) / decS / 1e9,
      // The graph's ops, plus the input's quantisation.
      encoderDispatches: 1 + (await countOps((g, x) => encoder(g, c, x), 1)),
      decoderDispatches: 1 + (await countOps((g, x, e) => decoder(g, c, x, e), 2)),
    });
    model.dispose();
  }
  const result = { adapter: engine.adapter.name, ceilings, rows };
  if (o.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.log(ceilingsHeader(result.adapter, ceilings));
    console.log(
      'config      batch  samples  encoder samples/s  (GFLOP/s, % of FMA)  decoder samples/s  (GFLOP/s, % of FMA)',
    );
    for (const r of rows) {
      const pct = (g: number) => ((100 * g) / ceilings.fmaGflops).toFixed(0);
      console.log(
        `${r.config.padEnd(11)} ${String(r.batch).padStart(5)} ${String(r.samples).padStart(8)} ` +
          `${r.encoderSamplesPerSecond.toFixed(0).padStart(18)}  (${r.encoderGflops.toFixed(2)}, ${pct(r.encoderGflops)}%)`.padEnd(
            24,
          ) +
          `${r.decoderSamplesPerSecond.toFixed(0).padStart(18)}  (${r.decoderGflops.toFixed(2)}, ` +
          `${pct(r.decoderGflops)}%)`,
      );
    }
  }
  return result;
}
