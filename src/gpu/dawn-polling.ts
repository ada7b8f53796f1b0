// Dawn's Node binding, while any of its promises is pending (mapAsync, onSubmittedWorkDone), polls
// its instance from the event loop: each poll schedules the next through the global `setImmediate`,
// about 100,000 a second for the whole wait, and the JavaScript thread spins a core. On a CPU
// adapter that core is one the adapter's own threads need. Measured on the 2-core VM (lavapipe),
// one training step of the default model in one pass, its duration taken from the GPU's own
// timestamps: 1.19-1.22 s while the read-back's promise spun, 0.63-0.74 s with the polls below.
//
// So on CPU adapters the binding's polls wait for a timer instead (about a millisecond, far below
// the waits they end). They are told apart from any other `setImmediate` call by what the binding
// passes: a native function with no name and no parameters, called with no arguments (bound and
// script functions have names or source text, a promise's resolvers a parameter); everything else
// goes straight through. The binding looks the global up at each
// call, so the throttle holds from the first pending promise after it is installed.

const isDawnPoll = (callback: unknown, args: unknown[]): boolean =>
  typeof callback === 'function' &&
  callback.name === '' &&
  callback.length === 0 && // (a promise's resolve and reject are native and nameless too, of length 1)
  args.length === 0 &&
  /^function \(\) \{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(callback));

let holders = 0;
let original: typeof setImmediate | null = null;
let installed: typeof setImmediate | null = null;

/**
 * Routes the binding's polls through `setTimeout(poll, intervalMs)` until the returned function is
 * called (once per caller; the last one restores `setImmediate`). Node only: elsewhere a no-op.
 */
export function throttleDawnPolling(intervalMs = 1): () => void {
  const g = globalThis as { setImmediate?: typeof setImmediate };
  if (typeof g.setImmediate !== 'function') return () => {};
  if (holders++ === 0) {
    const passThrough = g.setImmediate;
    const timer = setTimeout; // the real one, whatever a test fakes later
    original = passThrough;
    const throttled = ((callback: (...a: unknown[]) => void, ...args: unknown[]) => {
      if (isDawnPoll(callback, args)) return timer(callback, intervalMs);
      return passThrough(callback, ...args);
    }) as typeof setImmediate;
    installed = throttled;
    // util.promisify(setImmediate) keeps working (timers/promises does not go through the global)
    const custom = Symbol.for('nodejs.util.promisify.custom');
    (throttled as unknown as Record<symbol, unknown>)[custom] = (passThrough as unknown as Record<symbol, unknown>)[
      custom
    ];
    g.setImmediate = throttled;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0 && original) {
      // (only if it is still ours: whoever replaced it since keeps theirs)
      if (g.setImmediate === installed) g.setImmediate = original;
      original = null;
      installed = null;
    }
  };
}

/** Whether the binding's polls wait for a timer now (an engine on a CPU adapter holds the throttle). */
export function dawnPollingThrottled(): boolean {
  return holders > 0;
}

/**
 * The poll interval for CPU adapters: NSYNTH_DAWN_POLL=spin keeps the binding's own polling (for
 * measurement), a number sets the interval in milliseconds (1-100: Node's timers wait at least
 * 1 ms); default 1. The first engine's value holds while any engine holds the throttle.
 */
export function dawnPollInterval(env: Record<string, string | undefined>): number | null {
  const v = env.NSYNTH_DAWN_POLL;
  if (v === undefined || v === '') return 1;
  if (v === 'spin') return null;
  const ms = Number(v);
  if (!Number.isFinite(ms) || ms < 1 || ms > 100)
    throw new Error(`NSYNTH_DAWN_POLL must be "spin" or a poll interval of 1-100 ms, got "${v}"`);
  return ms;
}
