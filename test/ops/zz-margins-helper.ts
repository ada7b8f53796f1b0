import { closeness } from '../helpers.js';
export * from '../helpers.js';
export function expectClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rtol: number,
  atol: number,
  what = 'values',
): void {
  const w = closeness(a, b, rtol, atol);
  console.log(`MARGIN ${what}: ${w.ratio.toFixed(3)}`);
  if (w.ratio > 1) throw new Error(`${what} over ${w.ratio}`);
}
