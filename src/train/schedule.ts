// Magenta's piecewise-constant learning rate (h512_bo16.py): 2e-4 until 90k steps, then 1.333e-4,
// 6e-5 from 120k, 4e-5 from 150k, 2e-5 from 180k (6e-6 and 2e-6 after 210k and 240k). The
// boundaries are stated for a 200k-step run; `length` rescales them to another run length and
// `scale` multiplies every rate.
export const MAGENTA_SCHEDULE: [number, number][] = [
  [0, 2e-4],
  [90000, 4e-4 / 3],
  [120000, 6e-5],
  [150000, 4e-5],
  [180000, 2e-5],
  [210000, 6e-6],
  [240000, 2e-6],
];
export const MAGENTA_STEPS = 200000;

/** Learning rate at (0-based) step `step` of a run whose schedule spans `length` steps. */
export function learningRate(step: number, length = MAGENTA_STEPS, scale = 1): number {
  const at = (step * MAGENTA_STEPS) / length;
  let lr = MAGENTA_SCHEDULE[0][1];
  for (const [boundary, rate] of MAGENTA_SCHEDULE) if (at >= boundary) lr = rate;
  return lr * scale;
}
