// Waiting for the GPU without spinning a CPU core, where that core is the adapter's, when the
// binding's polls spin (NSYNTH_DAWN_POLL=spin; by default they wait for a timer: dawn-polling.ts).
//
// While a promise of Dawn's Node binding is pending (mapAsync, onSubmittedWorkDone), the binding
// polls for it from the event loop, again and again: the JavaScript thread spins a core the whole
// wait, the garbage collector busy with it (a profile of `nsynth bench train` on lavapipe: 7.4 s in
// processImmediate and 8.0 s in the collector in a 28 s run). On a CPU adapter that core is one the
// adapter's own threads need: on the 2-core VM a training step of the default model (batch 4)
// took 3.9 s when its loss was awaited at once and 2.4-2.5 s when the wait slept first. A
// PatientWait learns how long its call site's waits last and sleeps most of that before handing
// the binding the promise. Keep one per kind of wait: waits of different lengths must not share an
// estimate (a sleep longer than the work idles the adapter). Throttled polls do better still, with
// no sleep to overshoot (the default model's training step 0.65-0.77 s against 0.77-0.90 s with
// both), so while they are in force a PatientWait waits at once.

import { dawnPollingThrottled } from './dawn-polling.js';
import type { Engine } from './engine.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Whether waiting at once costs the adapter a core: in Node (Dawn's binding polls from the event
 * loop) on a CPU adapter (whose threads share the machine's cores), unless the binding's polls are
 * throttled (dawn-polling.ts, the default there). A browser's WebGPU does not spin the page's
 * thread, and a GPU's waits take none of its time, so there a wait starts at once.
 */
export function waitsSpinAdapterCores(engine: Engine): boolean {
  const node = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  return node && engine.adapter.type === 'cpu' && !dawnPollingThrottled();
}

export class PatientWait {
  private estimateMs = 0;
  /** The last wait was over when its sleep ended, so its length is unknown: measure the next one. */
  private probeNext = false;

  /**
   * `enabled`: sleep at all (CPU adapters; a GPU's waits cost no adapter time). `share`: the part of
   * the expected wait slept. Waits expected under `minMs` are not worth a timer.
   */
  constructor(
    readonly enabled: boolean,
    private readonly share = 0.75,
    private readonly minMs = 4,
  ) {}

  /** The wait this site expects next, in milliseconds (0 until one has been seen). */
  get expectedMs(): number {
    return this.estimateMs;
  }

  /** `start()`'s result, after sleeping part of the expected wait first. Call right after submitting. */
  async wait<T>(start: () => Promise<T>): Promise<T> {
    if (!this.enabled) return start();
    const t0 = performance.now();
    const sleeps = !this.probeNext && this.estimateMs >= this.minMs;
    if (sleeps) await sleep(this.estimateMs * this.share);
    const t1 = performance.now();
    const result = await start();
    const t2 = performance.now();
    // Ready the moment the sleep ended: the work took at most the sleep and maybe far less, which
    // only a wait without a sleep can tell (the sleep's timer slack would hold the estimate up).
    const probing = this.probeNext;
    this.probeNext = sleeps && t2 - t1 < 1;
    if (!this.probeNext) {
      const sample = t2 - t0;
      // A probe follows an oversleep: its length replaces the estimate outright (blended in, a
      // far-too-long first estimate would oversleep several more waits).
      this.estimateMs = this.estimateMs === 0 || probing ? sample : 0.7 * this.estimateMs + 0.3 * sample;
    }
    return result;
  }
}
