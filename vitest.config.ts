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
    // Tests pin their generation paths; \`auto\`'s per-adapter timing (src/generate/tuning.ts) would
    // make a path depend on the load of the machine. test/tuning.test.ts turns it on for itself.
    env: { NSYNTH_TUNING: 'off' },
    hookTimeout: 120_000,
  },
});
