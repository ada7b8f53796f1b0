// Where a plan's GPU time goes: every dispatch of a list timed on the GPU itself with timestamp
// queries, grouped by kernel. A step's wall time says how fast it is; this says which kernels make
// it so, and how many workgroups each launched, which on a GPU with 100+ compute units is often the
// answer (`nsynth bench train --profile`, `nsynth bench generate --profile`).
//
// Each dispatch runs in a compute pass of its own, with a timestamp written at the pass's start and
// end, so the per-dispatch times include no queueing of other dispatches. The sum of the dispatches
// (`gpuMicros`) is the time the kernels ran; the span from the first start to the last end
// (`spanMicros`) adds what lies between passes (barriers, the dispatches' own set-up), which on a
// GPU is most of a small kernel's cost. Dawn's Node binding is asked for unquantised timestamps
// (src/gpu/device.ts); a browser rounds them (Chrome: to 100 us) unless started with its WebGPU
// developer features.
import type { Engine } from '../gpu/engine.js';
import { PatientWait, waitsSpinAdapterCores } from '../gpu/patient-wait.js';
import { type Dispatch, encodeDispatch } from '../gpu/registry.js';

/** WebGPU's limit on queries in one query set: two a dispatch, so at most this many dispatches per set. */
const DISPATCHES_PER_QUERY_SET = 2048;

/** One kernel's share of the list: its dispatches' GPU time (median over the repeats), summed. */
export interface KernelTime {
  /** The kernel's name in kernels/, with its override constants where it has any: `gen_layer_fused(C4=4,KS=16)`. */
  kernel: string;
  dispatches: number;
  micros: number;
  /** Of the list's summed GPU time. */
  share: number;
  /** Workgroups per dispatch, smallest and largest, and invocations per workgroup. */
  workgroupsMin: number;
  workgroupsMax: number;
  workgroupSize: number;
}

export interface DispatchProfile {
  dispatches: number;
  /** Timed runs of the whole list (after one untimed); each dispatch's time is its median. */
  repeats: number;
  /** The dispatches' GPU times summed. */
  gpuMicros: number;
  /** First start to last end (median over the repeats): the kernels and what lies between them. */
  spanMicros: number;
  /** Slowest kernel first. */
  kernels: KernelTime[];
  /** Each dispatch's GPU time (median over the repeats), in the list's order. */
  dispatchMicros: number[];
}

/** Throws, naming the adapter, where it cannot time dispatches (no `timestamp-query` feature). */
export function checkProfiling(engine: Engine): void {
  if (!engine.features.has('timestamp-query'))
    throw new Error(
      `The adapter ${engine.adapter.name} has no timestamp-query feature: a profile times each dispatch with it`,
    );
}

/**
 * Runs `list` 1 + `repeats` times, each dispatch in a pass of its own with timestamps, and reports
 * the GPU time per kernel. The dispatches really run (a training step updates its parameters each
 * time), so profile a plan whose state may change. Needs the adapter's `timestamp-query` feature.
 */
export async function profileDispatches(engine: Engine, list: Dispatch[], repeats = 3): Promise<DispatchProfile> {
  checkProfiling(engine);
  if (list.length === 0) throw new Error('profileDispatches: no dispatches to time');
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new Error(`profile repeats must be a positive integer, got ${repeats}`);
  const n = list.length;
  const device = engine.device;
  const sets: GPUQuerySet[] = [];
  const bytes = 16 * n; // two u64 a dispatch
  let resolved: GPUBuffer | null = null;
  const patience = new PatientWait(waitsSpinAdapterCores(engine));
  const perDispatch = Array.from({ length: n }, () => [] as number[]);
  const spans: number[] = [];
  try {
    for (let at = 0; at < n; at += DISPATCHES_PER_QUERY_SET)
      sets.push(device.createQuerySet({ type: 'timestamp', count: 2 * Math.min(DISPATCHES_PER_QUERY_SET, n - at) }));
    resolved = device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    for (let r = 0; r <= repeats; r++) {
      engine.checkHealthy();
      const enc = device.createCommandEncoder({ label: 'dispatch profile' });
      for (let i = 0; i < n; i++) {
        const set = sets[Math.floor(i / DISPATCHES_PER_QUERY_SET)];
        const q = 2 * (i % DISPATCHES_PER_QUERY_SET);
        const pass = enc.beginComputePass({
          timestampWrites: { querySet: set, beginningOfPassWriteIndex: q, endOfPassWriteIndex: q + 1 },
        });
        encodeDispatch(pass, list[i]);
        pass.end();
      }
      const target = resolved;
      sets.forEach((set, s) => {
        enc.resolveQuerySet(set, 0, set.count, target, s * DISPATCHES_PER_QUERY_SET * 16);
      });
      const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      try {
        enc.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
        device.queue.submit([enc.finish()]);
        await patience.wait(() => staging.mapAsync(GPUMapMode.READ));
        const ts = new BigUint64Array(staging.getMappedRange().slice(0));
        if (r === 0) continue; // the untimed run: first use of each pipeline
        // Timestamps are nanoseconds; a driver may write them out of order across passes (clamped).
        for (let i = 0; i < n; i++) perDispatch[i].push(Math.max(0, Number(ts[2 * i + 1] - ts[2 * i]) / 1000));
        spans.push(Math.max(0, Number(ts[2 * n - 1] - ts[0]) / 1000));
      } finally {
        staging.destroy();
      }
    }
  } finally {
    resolved?.destroy();
    for (const s of sets) s.destroy();
  }
  engine.checkHealthy();
  const byKernel = new Map<string, KernelTime>();
  let gpuMicros = 0;
  const dispatchMicros = perDispatch.map(median);
  list.forEach((d, i) => {
    const micros = dispatchMicros[i];
    gpuMicros += micros;
    const label = d.kernel.name; // the registry's key: the file, and its override constants if any
    const wg = d.workgroups[0] * d.workgroups[1] * d.workgroups[2];
    const [x, y, z] = d.kernel.workgroupSize;
    const k = byKernel.get(label) ?? {
      kernel: label,
      dispatches: 0,
      micros: 0,
      share: 0,
      workgroupsMin: wg,
      workgroupsMax: wg,
      workgroupSize: x * y * z,
    };
    k.dispatches++;
    k.micros += micros;
    k.workgroupsMin = Math.min(k.workgroupsMin, wg);
    k.workgroupsMax = Math.max(k.workgroupsMax, wg);
    byKernel.set(label, k);
  });
  const kernels = [...byKernel.values()].sort((a, b) => b.micros - a.micros);
  for (const k of kernels) k.share = gpuMicros > 0 ? k.micros / gpuMicros : 0;
  return { dispatches: n, repeats, gpuMicros, spanMicros: median(spans), kernels, dispatchMicros };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The profile as a table, slowest kernel first (`top` rows, the rest summed into one). */
export function profileTable(p: DispatchProfile, top = 12): string {
  const ms = (us: number) => (us / 1000).toFixed(us < 10_000 ? 3 : 1);
  const lines = [
    `  ${p.dispatches} dispatches: ${ms(p.gpuMicros)} ms of kernels, ${ms(p.spanMicros)} ms first start to last end ` +
      `(median of ${p.repeats}; each dispatch in a pass of its own)`,
    '  kernel                                      dispatches   ms total  share  us/dispatch  workgroups x size',
  ];
  const row = (k: Omit<KernelTime, 'workgroupSize'> & { workgroupSize: number | null }) =>
    `  ${k.kernel.padEnd(44).slice(0, 44)}${String(k.dispatches).padStart(10)}${ms(k.micros).padStart(11)}` +
    `${`${(100 * k.share).toFixed(1)}%`.padStart(7)}${(k.micros / k.dispatches).toFixed(1).padStart(13)}  ` +
    (k.workgroupSize === null
      ? ''
      : `${k.workgroupsMin === k.workgroupsMax ? k.workgroupsMin : `${k.workgroupsMin}-${k.workgroupsMax}`} x ${k.workgroupSize}`);
  for (const k of p.kernels.slice(0, top)) lines.push(row(k));
  const rest = p.kernels.slice(top);
  if (rest.length)
    lines.push(
      row({
        kernel: `(${rest.length} more kernels)`,
        dispatches: rest.reduce((s, k) => s + k.dispatches, 0),
        micros: rest.reduce((s, k) => s + k.micros, 0),
        share: rest.reduce((s, k) => s + k.share, 0),
        workgroupsMin: 0,
        workgroupsMax: 0,
        workgroupSize: null,
      }),
    );
  return lines.join('\n');
}
