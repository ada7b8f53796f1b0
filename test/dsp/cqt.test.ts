// The constant-Q transform against direct correlation with its filters, a pure tone's peak bin and
// level, and the instantaneous frequency of a steady tone.
import { describe, expect, it } from 'vitest';
import { C2_HZ, cqt } from '../../src/dsp/cqt.js';
import { instantaneousFrequency, wrap } from '../../src/dsp/instantaneous-frequency.js';
import { rng } from '../helpers.js';

const SR = 16000;
const sine = (hz: number, n: number, a = 0.5) =>
  Float32Array.from({ length: n }, (_, i) => a * Math.sin((2 * Math.PI * hz * i) / SR));

/** Plain reference: sum_n x[n] conj(h[n]) with the filter written out in the time domain. */
function directBin(x: Float32Array, t: number, f: number, hop = 256, perOctave = 40, scale = 0.8) {
  const Q = scale / (2 ** (1 / perOctave) - 1);
  const n = Math.ceil((Q * SR) / f);
  const half = Math.floor(n / 2);
  let l1 = 0;
  for (let i = 0; i < n; i++) l1 += 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n);
  let re = 0;
  let im = 0;
  for (let i = 0; i < n; i++) {
    const at = t * hop - half + i;
    if (at < 0 || at >= x.length) continue;
    const w = (0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n)) / l1;
    const phase = (2 * Math.PI * f * (i - half)) / SR;
    re += x[at] * w * Math.cos(phase);
    im -= x[at] * w * Math.sin(phase);
  }
  return [re, im];
}

describe('constant-Q transform', () => {
  it('agrees with direct correlation with its filters (noise, bins across six octaves)', () => {
    const x = rng(5).fill(16000, -0.5, 0.5);
    const c = cqt(x);
    expect(c.bins).toBe(240);
    expect(c.frames).toBe(63);
    expect(c.frequencies[0]).toBeCloseTo(65.406, 3);
    expect(c.frequencies[239]).toBeCloseTo(C2_HZ * 2 ** (239 / 40), 6);
    let worst = 0;
    let scale = 0;
    for (const t of [0, 20, 31, 62])
      for (const k of [0, 37, 110, 200, 239]) {
        const [re, im] = directBin(x, t, c.frequencies[k]);
        worst = Math.max(worst, Math.hypot(re - c.re[t * 240 + k], im - c.im[t * 240 + k]));
        scale = Math.max(scale, Math.hypot(re, im));
      }
    expect(worst / scale).toBeLessThan(2e-3);
  });

  it('a pure tone peaks in the bin of its frequency, at half its amplitude', () => {
    for (const [hz, bin] of [
      [440, 110],
      [1000, 157],
      [110, 30],
    ]) {
      const c = cqt(sine(hz, 16000, 0.5));
      const t = 31;
      let best = 0;
      for (let k = 1; k < 240; k++)
        if (Math.hypot(c.re[t * 240 + k], c.im[t * 240 + k]) > Math.hypot(c.re[t * 240 + best], c.im[t * 240 + best]))
          best = k;
      expect(best, `${hz} Hz`).toBe(bin);
      if (hz === 440) expect(Math.hypot(c.re[t * 240 + 110], c.im[t * 240 + 110])).toBeCloseTo(0.25, 2);
    }
  });
});

describe('instantaneous frequency', () => {
  it('of a steady tone is constant over time: the phase advance per hop, over pi', () => {
    const c = cqt(sine(440, 16000));
    const ifreq = instantaneousFrequency(c.re, c.im, c.bins);
    const expected = wrap((2 * Math.PI * 440 * 256) / SR) / Math.PI;
    // frames whose filter lies wholly inside the note (the 440 Hz filter is ~1,700 samples long)
    for (let t = 5; t < c.frames - 5; t++) expect(ifreq[t * 240 + 110]).toBeCloseTo(expected, 4);
  });

  it('wraps differences into (-pi, pi] and keeps frame 0 as raw phase / pi', () => {
    const re = Float32Array.of(0, 1, 0, -1);
    const im = Float32Array.of(1, 0, -1, 0);
    const f = instantaneousFrequency(re, im, 1);
    expect(f[0]).toBeCloseTo(0.5, 6);
    expect(f[1]).toBeCloseTo(-0.5, 6);
    expect(f[2]).toBeCloseTo(-0.5, 6);
    expect(f[3]).toBeCloseTo(-0.5, 6);
    expect(wrap(Math.PI)).toBeCloseTo(Math.PI, 12);
    expect(wrap(-Math.PI)).toBeCloseTo(Math.PI, 12);
    expect(wrap(7)).toBeCloseTo(7 - 2 * Math.PI, 12);
  });
});
