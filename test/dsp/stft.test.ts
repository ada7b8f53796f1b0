// STFT against a plain DFT, the inverse STFT's round trip, Magenta's log-magnitude scaling, and
// Griffin-Lim's convergence on a harmonic tone.
import { describe, expect, it } from 'vitest';
import { griffinLim, spectralConvergence } from '../../src/dsp/griffin-lim.js';
import { hann, istft, logMagnitudeScale, magnitudeFromScaled, power, stft, stftFrames } from '../../src/dsp/stft.js';
import { rng } from '../helpers.js';

function noise(n: number, seed: number): Float32Array {
  return rng(seed).fill(n, -0.5, 0.5);
}

function tone(n: number, partials: [number, number][], sampleRate = 16000): Float32Array {
  return Float32Array.from({ length: n }, (_, i) =>
    partials.reduce((s, [hz, a]) => s + a * Math.sin((2 * Math.PI * hz * i) / sampleRate), 0),
  );
}

describe('stft', () => {
  it('matches a plain DFT of the reflect-padded, Hann-windowed frame (nFft 64, hop 16)', () => {
    const x = noise(300, 1);
    const s = stft(x, { nFft: 64, hop: 16 });
    expect(s.frames).toBe(stftFrames(300, 16));
    expect(s.frames).toBe(19);
    const w = hann(64);
    // reference: centre padding by reflection, written out directly
    const at = (i: number) => x[i < 0 ? -i : i >= x.length ? 2 * (x.length - 1) - i : i];
    let worst = 0;
    for (const f of [0, 1, 9, 18])
      for (let k = 0; k <= 32; k++) {
        let re = 0;
        let im = 0;
        for (let n = 0; n < 64; n++) {
          const v = at(f * 16 + n - 32) * w[n];
          re += v * Math.cos((2 * Math.PI * k * n) / 64);
          im -= v * Math.sin((2 * Math.PI * k * n) / 64);
        }
        worst = Math.max(worst, Math.abs(re - s.re[f * 33 + k]), Math.abs(im - s.im[f * 33 + k]));
      }
    expect(worst).toBeLessThan(1e-5);
  });

  it('inverse STFT rebuilds the signal within 1e-5 (n_fft 1024, hop 256; reflect and zero padding)', () => {
    const x = noise(16000, 2);
    for (const pad of ['reflect', 'zeros'] as const) {
      const y = istft(stft(x, { pad }), x.length);
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
      expect(worst, pad).toBeLessThan(1e-5);
    }
  });

  it("log-magnitude scaling is Magenta's: loudest bin 1, top_db below it 0, and inverts to magnitudes", () => {
    const p = Float32Array.of(1, 0.1, 1e-6, 1e-12, 0, 4);
    const m = logMagnitudeScale(p, { topDb: 70 });
    expect(m[5]).toBe(1);
    expect(m[0]).toBeCloseTo(1 - (10 * Math.log10(4)) / 70, 6);
    expect(m[2]).toBeCloseTo(1 - (10 * Math.log10(4e6)) / 70, 6);
    expect(m[3]).toBe(0);
    expect(m[4]).toBe(0);
    const back = magnitudeFromScaled(m.subarray(0, 3), { topDb: 70, peak: 2 });
    for (let i = 0; i < 3; i++) expect(back[i]).toBeCloseTo(Math.sqrt(p[i]), 5);
  });
});

describe('griffin-lim', () => {
  it('rebuilds a harmonic tone from magnitudes alone: spectral convergence under 0.1 in 100 rounds (0.093 measured; 0.066 after 1,000), improving', () => {
    const x = tone(8000, [
      [220, 0.5],
      [440, 0.25],
      [660, 0.125],
    ]);
    const s = stft(x);
    const mag = Float32Array.from(power(s), Math.sqrt);
    const few = griffinLim(mag, s.frames, { iterations: 5, length: x.length });
    const many = griffinLim(mag, s.frames, { iterations: 100, length: x.length });
    expect(many.spectralConvergence).toBeLessThan(0.1);
    expect(many.spectralConvergence).toBeLessThan(few.spectralConvergence);
    expect(spectralConvergence(many.audio, mag, s.frames)).toBeCloseTo(many.spectralConvergence, 10);
    // momentum (fast Griffin-Lim) gets there in fewer rounds
    const fast = griffinLim(mag, s.frames, { iterations: 30, momentum: 0.99, length: x.length });
    expect(fast.spectralConvergence).toBeLessThan(
      griffinLim(mag, s.frames, { iterations: 30, length: x.length }).spectralConvergence,
    );
    // same seed, same audio
    expect(griffinLim(mag, s.frames, { iterations: 3, seed: 4 }).audio).toEqual(
      griffinLim(mag, s.frames, { iterations: 3, seed: 4 }).audio,
    );
  });

  it('refuses magnitudes that are not whole frames', () => {
    expect(() => griffinLim(new Float32Array(1000), 2)).toThrow(/1000 magnitudes are not 2 frames of 513 bins/);
  });
});
