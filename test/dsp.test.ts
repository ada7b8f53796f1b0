// The quality toolkit: YIN f0 (src/dsp/f0.ts) on synthetic tones of known pitch and on the real
// NSynth notes, the log-spectral distance (src/dsp/spectral.ts) and bits per sample (src/dsp/nll.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cents, f0ErrorCents, medianF0, midiToHz, yinF0 } from '../src/dsp/f0.js';
import { bitsPerSample } from '../src/dsp/nll.js';
import { logSpectralDistance } from '../src/dsp/spectral.js';
import { readWav16k } from '../src/formats/wav.js';
import { rng } from './helpers.js';

const SR = 16000;
const NSYNTH = path.resolve(__dirname, '../../shared/data/nsynth');

/** A tone of `seconds` at `hz`: its harmonics below Nyquist with amplitudes 1/k (k = 1 only for a pure tone). */
function tone(hz: number, seconds: number, harmonics: number, phase = 0): Float32Array {
  const n = Math.round(seconds * SR);
  const out = new Float32Array(n);
  for (let k = 1; k <= harmonics && k * hz < SR / 2; k++) {
    for (let t = 0; t < n; t++) out[t] += (0.5 / k) * Math.sin((2 * Math.PI * k * hz * t) / SR + phase * k);
  }
  return out;
}

describe('f0 (YIN)', () => {
  it('pure and harmonic tones from MIDI 24 to 96: median f0 within 10 cents', () => {
    let worst = 0;
    for (let midi = 24; midi <= 96; midi++) {
      for (const harmonics of [1, 8]) {
        const hz = midiToHz(midi);
        const f = medianF0(yinF0(tone(hz, 0.3, harmonics, midi * 0.1)));
        expect(f, `MIDI ${midi}, ${harmonics} harmonic(s): no f0`).toBeGreaterThan(0);
        const err = Math.abs(cents(f, hz));
        worst = Math.max(worst, err);
        expect(err, `MIDI ${midi}, ${harmonics} harmonic(s): ${f.toFixed(2)} Hz for ${hz.toFixed(2)}`).toBeLessThan(10);
      }
    }
    expect(worst).toBeGreaterThan(0); // the estimate is measured, not snapped to the grid
  });

  it('noise has no f0, and a pitch error is the cents between two median f0s', () => {
    const r = rng(3);
    const noise = r.fill(SR, -0.5, 0.5);
    expect(medianF0(yinF0(noise))).toBe(0);
    const a4 = tone(440, 0.5, 6);
    expect(f0ErrorCents(noise, a4)).toBeNull();
    const sharp = tone(440 * 2 ** (50 / 1200), 0.5, 6);
    expect(f0ErrorCents(sharp, a4)).toBeCloseTo(50, 0);
    expect(f0ErrorCents(a4, sharp)).toBeCloseTo(-50, 0);
    expect(() => yinF0(a4, { window: 8 })).toThrow(/no lags/);
    // Clarity on every frame, voiced or not: ~1 for the tone, far lower for noise, and between them
    // for the tone under as much noise again.
    const med = (x: Float32Array) => Array.from(x).sort((p, q) => p - q)[x.length >> 1];
    const clean = med(yinF0(a4).clarity);
    const noisy = yinF0(a4.map((v, i) => v + noise[i] * 1.2));
    expect(clean).toBeGreaterThan(0.98);
    expect(med(yinF0(noise).clarity)).toBeLessThan(0.45);
    expect(med(noisy.clarity)).toBeGreaterThan(med(yinF0(noise).clarity) + 0.1);
    expect(med(noisy.clarity)).toBeLessThan(clean - 0.1);
  });

  it('the real NSynth notes: median f0 at the labelled pitch class, within 50 cents', (ctx) => {
    if (!fs.existsSync(NSYNTH)) {
      console.warn(`skipped: ${NSYNTH} is absent`);
      ctx.skip();
    }
    const files = fs.readdirSync(NSYNTH).filter((f) => f.endsWith('.wav'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const midi = Number(/-(\d{3})-\d{3}\.wav$/.exec(f)![1]);
      const got = cents(medianF0(yinF0(readWav16k(path.join(NSYNTH, f)))), midiToHz(midi));
      // YIN reports the waveform's period: a synthetic flute's repeats an octave below its label.
      const offOctave = got - 1200 * Math.round(got / 1200);
      expect(Math.abs(offOctave), `${f}: ${got.toFixed(0)} cents from MIDI ${midi}`).toBeLessThan(50);
    }
  });
});

describe('log-spectral distance', () => {
  it('is 0 for the same note, 6.02 dB for half the amplitude, and grows with the difference', () => {
    const r = rng(4);
    const noise = r.fill(8192, -0.5, 0.5);
    expect(logSpectralDistance(noise, noise)).toBe(0);
    expect(
      logSpectralDistance(
        noise,
        noise.map((v) => v / 2),
      ),
    ).toBeCloseTo(10 * Math.log10(4), 6);
    const a = tone(220, 0.5, 8);
    const close = a.map((v) => v + 0.001 * r.uniform(-1, 1));
    const far = tone(330, 0.5, 8);
    expect(logSpectralDistance(a, close)).toBeLessThan(logSpectralDistance(a, far));
    expect(() => logSpectralDistance(new Float32Array(100), a)).toThrow(/shorter than one frame/);
  });
});

describe('bits per sample', () => {
  it('8 bits for a uniform guess, near 0 for a sure one, -log2 softmax in general', () => {
    const T = 50;
    const classes = Uint32Array.from({ length: T }, (_, t) => (t * 37) % 256);
    expect(bitsPerSample(new Float32Array(T * 256), classes)).toBeCloseTo(8, 10);
    const sure = new Float32Array(T * 256);
    for (let t = 0; t < T; t++) sure[t * 256 + classes[t]] = 40;
    expect(bitsPerSample(sure, classes)).toBeLessThan(1e-10);
    const logits = rng(5).fill(T * 256, -3, 3);
    let want = 0;
    for (let t = 0; t < T; t++) {
      const row = logits.subarray(t * 256, (t + 1) * 256);
      const z = row.reduce((s, v) => s + Math.exp(v), 0);
      want += -Math.log2(Math.exp(row[classes[t]]) / z);
    }
    expect(bitsPerSample(logits, classes)).toBeCloseTo(want / T, 6);
    expect(() => bitsPerSample(logits, classes.subarray(1))).toThrow(/49 classes/);
  });
});
