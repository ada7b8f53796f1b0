// Dawn's polls on a timer (src/gpu/dawn-polling.ts): only the binding's own callbacks are delayed,
// the throttle comes and goes with its holders, and on a CPU adapter a long GPU wait polls about
// once a millisecond instead of ~100 times.
import { afterEach, describe, expect, it } from 'vitest';
import { dawnPollInterval, dawnPollingThrottled, throttleDawnPolling } from '../src/gpu/dawn-polling.js';
import { waitsSpinAdapterCores } from '../src/gpu/patient-wait.js';
import { conv1d } from '../src/ops/conv1d.js';
import { destroyDispatches } from '../src/gpu/registry.js';
import { rng, testEngine } from './helpers.js';

// `Function.prototype` is what the binding hands over: native, nameless, called with no arguments.
const nativeNameless = Function.prototype as () => void;
const handleKind = (h: unknown) => (h as object).constructor.name;

describe('throttleDawnPolling', () => {
  const undo: (() => void)[] = [];
  afterEach(() => {
    for (const u of undo.splice(0)) u();
  });

  it("delays the binding's polls by a timer and passes every other setImmediate through", async () => {
    undo.push(throttleDawnPolling(1));
    expect(dawnPollingThrottled()).toBe(true);
    const poll = setImmediate(nativeNameless);
    expect(handleKind(poll)).toBe('Timeout');
    clearTimeout(poll as unknown as NodeJS.Timeout);
    // a promise's resolver (native and nameless too, but of one parameter): an immediate
    let resolver: ((v: unknown) => void) | undefined;
    const resolved = new Promise((r) => {
      resolver = r;
    });
    expect(handleKind(setImmediate(resolver!))).toBe('Immediate');
    await resolved;
    // a script function, a bound one, a native one with arguments: immediates, as before
    let ran = 0;
    const count = () => void ran++;
    const handles = [setImmediate(count), setImmediate(count.bind(null)), setImmediate(nativeNameless.bind(null))];
    const withArgs = setImmediate((n: number) => {
      ran += n;
    }, 10);
    expect([...handles, withArgs].map(handleKind)).toEqual(['Immediate', 'Immediate', 'Immediate', 'Immediate']);
    await new Promise((r) => setImmediate(r));
    expect(ran).toBe(12);
    // and they stay cancellable
    let cancelled = true;
    clearImmediate(
      setImmediate(() => {
        cancelled = false;
      }),
    );
    await new Promise((r) => setTimeout(r, 5));
    expect(cancelled).toBe(true);
  });

  it('leaves a setImmediate that someone installed over it in place when released', () => {
    if (dawnPollingThrottled()) return void console.warn('skipped: an engine holds the throttle');
    const real = globalThis.setImmediate;
    const release = throttleDawnPolling();
    const theirs = ((cb: () => void) => real(cb)) as typeof setImmediate;
    globalThis.setImmediate = theirs;
    release();
    expect(globalThis.setImmediate).toBe(theirs);
    globalThis.setImmediate = real;
  });

  it('holds while any holder does; the last release restores setImmediate itself', () => {
    const before = dawnPollingThrottled() ? null : globalThis.setImmediate;
    const a = throttleDawnPolling();
    const b = throttleDawnPolling();
    a();
    a(); // a second release of the same holder changes nothing
    expect(dawnPollingThrottled()).toBe(true);
    expect(handleKind(setImmediate(nativeNameless))).toBe('Timeout');
    b();
    // (the test file's engine, if created, holds its own throttle)
    if (before) {
      expect(dawnPollingThrottled()).toBe(false);
      expect(globalThis.setImmediate).toBe(before);
    }
  });

  it('NSYNTH_DAWN_POLL: default 1 ms, "spin" for the binding as it is, a number of ms; anything else refused', () => {
    expect(dawnPollInterval({})).toBe(1);
    expect(dawnPollInterval({ NSYNTH_DAWN_POLL: '' })).toBe(1);
    expect(dawnPollInterval({ NSYNTH_DAWN_POLL: 'spin' })).toBeNull();
    expect(dawnPollInterval({ NSYNTH_DAWN_POLL: '2.5' })).toBe(2.5);
    for (const bad of ['fast', '-1', '0.5', '1000', 'NaN'])
      expect(() => dawnPollInterval({ NSYNTH_DAWN_POLL: bad })).toThrow(/NSYNTH_DAWN_POLL must be "spin" or/);
  });
});

describe('an engine on a CPU adapter', () => {
  it('waits for a long dispatch with about one poll a millisecond, and its PatientWaits wait at once', async () => {
    const e = await testEngine();
    if (e.adapter.type !== 'cpu' || process.env.NSYNTH_DAWN_POLL === 'spin')
      return void console.warn(`skipped: ${e.adapter.name} polls as the binding does`);
    expect(dawnPollingThrottled()).toBe(true);
    expect(waitsSpinAdapterCores(e)).toBe(false);
    // a convolution long enough to wait for (tens of ms or more on a software adapter)
    const r = rng(3);
    const rand = (n: number) => Float32Array.from({ length: n }, () => r.uniform(-1, 1));
    const x = e.upload(rand(8192 * 128), [1, 8192, 128]);
    const W = e.upload(rand(3 * 128 * 128), [1, 3, 128, 128]);
    const y = e.tensor([1, 8192, 128]);
    const d = await conv1d(e, x, W, null, y, { taps: 3, dilation: 4 });
    const throttled = globalThis.setImmediate;
    let polls = 0;
    globalThis.setImmediate = ((cb: () => void, ...args: unknown[]) => {
      polls++;
      return (throttled as (...a: unknown[]) => unknown)(cb, ...args);
    }) as typeof setImmediate;
    let waitedMs = 0;
    try {
      for (let i = 0; i < 4; i++) e.run([d]);
      const t0 = performance.now();
      await e.read(y);
      waitedMs = performance.now() - t0;
    } finally {
      globalThis.setImmediate = throttled;
    }
    // spinning, the binding polls ~100 times a millisecond
    expect(polls, `${polls} polls in ${waitedMs.toFixed(1)} ms`).toBeLessThan(2 * waitedMs + 20);
    destroyDispatches([d]);
    for (const t of [x, W, y]) t.release();
  });
});
