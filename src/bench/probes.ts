// The adapter's own ceilings, measured with probe kernels: read bandwidth, FMA throughput and the
// cost of one dispatch inside a compute pass. Kernels are judged against these numbers.
import type { Engine } from '../gpu/engine.js';
import { PatientWait, waitsSpinAdapterCores } from '../gpu/patient-wait.js';
import { destroyDispatches, type Dispatch } from '../gpu/registry.js';

export interface AdapterCeilings {
  readGBps: number;
  fmaGflops: number;
  dispatchMicros: number;
}

async function timeIt(engine: Engine, list: Dispatch[], reps: number): Promise<number> {
  // Each repetition waited for through a PatientWait: a probe that spun a core while it waited (as
  // Dawn's binding does for a pending promise) would measure a CPU adapter with one core fewer than
  // the kernels it is the ceiling for, which wait patiently.
  // The repetitions go back to back under one wait, so a timer's slack is shared among them.
  const patience = new PatientWait(waitsSpinAdapterCores(engine));
  const all = async () => {
    for (let i = 0; i < reps; i++) engine.run(list);
    await patience.wait(() => engine.sync());
  };
  engine.run(list);
  await engine.sync(); // warm-up: pipeline creation, first-touch
  await all(); // the wait's length learnt
  // The faster of two timed runs: one much faster than the learnt wait would be timed as the sleep.
  let best = Infinity;
  for (let k = 0; k < 2; k++) {
    const t0 = performance.now();
    await all();
    best = Math.min(best, performance.now() - t0);
  }
  return best / 1000 / reps;
}

export async function measureCeilings(engine: Engine): Promise<AdapterCeilings> {
  const software = engine.adapter.type === 'cpu';
  // Bandwidth: stream a buffer larger than any CPU cache.
  const bytes = (software ? 64 : 512) * 1024 * 1024;
  const src = engine.tensor([bytes / 4]);
  const groups = software ? 64 : 4096;
  const sink = engine.tensor([groups * 256]);
  const read = (await engine.kernel('probe_read_bandwidth')).prepare(
    { params: { n4: bytes / 16 }, src: src.buffer, sink: sink.buffer },
    [groups],
  );
  const readS = await timeIt(engine, [read], software ? 3 : 20);
  // FMA: 4 vec4 chains per thread.
  const iterations = software ? 2048 : 65536;
  const fgroups = software ? 64 : 2048;
  const fsink = engine.tensor([fgroups * 256]);
  const fma = (await engine.kernel('probe_fma_rate')).prepare({ params: { iterations }, sink: fsink.buffer }, [
    fgroups,
  ]);
  const fmaS = await timeIt(engine, [fma], 3);
  const flops = fgroups * 256 * iterations * 16 * 2;
  // Dispatch cost: many tiny dispatches in one pass.
  const n = 500;
  const esink = engine.tensor([1]);
  const empty = await engine.kernel('probe_empty');
  const list = Array.from({ length: n }, () => empty.prepare({ sink: esink.buffer }, [1]));
  const emptyS = await timeIt(engine, list, 3);
  destroyDispatches([read, fma, ...list]);
  for (const t of [src, sink, fsink, esink]) t.release();
  return { readGBps: bytes / readS / 1e9, fmaGflops: flops / fmaS / 1e9, dispatchMicros: (emptyS / n) * 1e6 };
}

/** The two header lines every benchmark table starts with: the adapter and its measured ceilings. */
export function ceilingsHeader(adapter: string, c: AdapterCeilings): string {
  return `adapter: ${adapter}\nceilings: read ${c.readGBps.toFixed(2)} GB/s, FMA ${c.fmaGflops.toFixed(1)} GFLOP/s, ${c.dispatchMicros.toFixed(1)} us per dispatch`;
}
