import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Dawn's native binding is safest in child processes; two match the CI machine's two cores.
    // A worker answers the runner's messages only between tasks of its event loop, so no test may
    // compute synchronously for long: the float64 reference (minutes for h512_bo16) yields every
    // 50 ms (src/graph/reference.ts); a minute-long block once failed a passing run with vitest's
    // 'Timeout calling "onTaskUpdate"'.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
