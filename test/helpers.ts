// Shared test helpers: one engine per test file, seeded inputs and tolerance checks that report
// the worst element.
import { createEngine, type Engine } from '../src/gpu/engine.js';
import { Rng } from '../src/util/rng.js';
import type { Arr } from '../src/ops/common.js';
import type { Dispatch } from '../src/gpu/registry.js';
import { destroyDispatches } from '../src/gpu/registry.js';

let engine: Promise<Engine> | null = null;
export function testEngine(): Promise<Engine> {
  engine ??= createEngine();
  return engine;
}

export function rng(seed: number): Rng {
  return new Rng(seed);
}

/** Runs prepared dispatches, waits, frees their uniforms. */
export async function runAll(e: Engine, list: Dispatch[]): Promise<void> {
  e.run(list);
  await e.sync();
  destroyDispatches(list);
}

/** Largest |a-b| / (atol + rtol |b|) over all elements; <= 1 passes. */
export function closeness(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rtol: number,
  atol: number,
): { ratio: number; index: number; a: number; b: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = { ratio: 0, index: -1, a: 0, b: 0 };
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d === 0) continue;
    const r = Number.isNaN(d) ? Infinity : d / (atol + rtol * Math.abs(b[i]));
    if (r > worst.ratio) worst = { ratio: r, index: i, a: a[i], b: b[i] };
  }
  return worst;
}

export function expectClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rtol: number,
  atol: number,
  what = 'values',
): void {
  const w = closeness(a, b, rtol, atol);
  if (w.ratio > 1) {
    throw new Error(
      `${what}: element ${w.index} is ${w.a}, reference ${w.b} (rtol ${rtol}, atol ${atol}, ${w.ratio.toFixed(2)}x ` +
        `over)`,
    );
  }
}

/** Relative error of the whole array: ||a-b|| / ||b||. */
export function relativeError(a: Arr | ArrayLike<number>, b: Arr | ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}
