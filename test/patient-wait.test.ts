// PatientWait (src/gpu/patient-wait.ts): sleeps most of a wait it has learnt before starting the
// promise that Dawn's binding would spin on, never much past the work's end, and stops sleeping
// when the work becomes short. The "work" here ends a fixed time after the wait is called, as GPU
// work submitted just before does, whenever the promise is asked for.
import { describe, expect, it } from 'vitest';
import { PatientWait } from '../src/gpu/patient-wait.js';

/** One wait on work that finishes `ms` after this call; when `start` was called and when it ended. */
async function waitOn(w: PatientWait, ms: number): Promise<{ startedAfter: number; took: number }> {
  const t0 = performance.now();
  let startedAfter = -1;
  await w.wait(() => {
    startedAfter = performance.now() - t0;
    // work already over answers at once (as a finished mapAsync does, within a poll)
    return startedAfter >= ms
      ? Promise.resolve()
      : new Promise<void>((resolve) => setTimeout(resolve, ms - startedAfter));
  });
  return { startedAfter, took: performance.now() - t0 };
}

describe('PatientWait', () => {
  it('disabled: starts at once and learns nothing', async () => {
    const w = new PatientWait(false);
    for (let i = 0; i < 3; i++) expect((await waitOn(w, 20)).startedAfter).toBeLessThan(2);
    expect(w.expectedMs).toBe(0);
  });

  it('learns a wait, then sleeps most of it before starting, ending with the work', async () => {
    const w = new PatientWait(true);
    const first = await waitOn(w, 40);
    expect(first.startedAfter).toBeLessThan(2); // nothing learnt yet
    for (let i = 0; i < 4; i++) await waitOn(w, 40);
    expect(w.expectedMs).toBeGreaterThan(20);
    const later = await waitOn(w, 40);
    expect(later.startedAfter).toBeGreaterThan(15); // slept first
    expect(later.took).toBeLessThan(40 + 25); // and did not oversleep the work by much (timer slack)
  });

  it('stops sleeping when the waits become short', async () => {
    const w = new PatientWait(true);
    for (let i = 0; i < 4; i++) await waitOn(w, 40);
    for (let i = 0; i < 25; i++) await waitOn(w, 1);
    expect(w.expectedMs).toBeLessThan(4);
    expect((await waitOn(w, 1)).startedAfter).toBeLessThan(2);
  });
});
