// Resampling to 16 kHz (libsamplerate): a tone keeps its frequency, amplitude and timing, the length
// follows the ratio of the rates, and what lies above the new Nyquist frequency is removed, not aliased.
import { describe, expect, it } from 'vitest';
import { resample, resampledLength } from '../src/formats/resample.js';

const tone = (hz: number, rate: number, samples: number, amplitude = 0.5) =>
  Float32Array.from({ length: samples }, (_, t) => amplitude * Math.sin((2 * Math.PI * hz * t) / rate));

/** Frequency from the rising zero crossings (each placed by linear interpolation), first to last. */
function zeroCrossingHz(x: Float32Array, rate: number): number {
  const crossings: number[] = [];
  for (let t = 1; t < x.length; t++)
    if (x[t - 1] < 0 && x[t] >= 0) crossings.push(t - 1 + -x[t - 1] / (x[t] - x[t - 1]));
  return ((crossings.length - 1) * rate) / (crossings[crossings.length - 1] - crossings[0]);
}

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

/** The samples away from both ends, where the filter saw input on both sides. */
const middle = (x: Float32Array, rate: number) =>
  x.subarray(Math.round(0.05 * rate), x.length - Math.round(0.05 * rate));

describe('resample', () => {
  it('a 44.1 kHz sine keeps its frequency, amplitude and timing at 16 kHz; the length follows the ratio', async () => {
    const input = tone(440, 44100, 66150); // 1.5 s
    const out = await resample(input, 44100, 16000);
    expect(out.length).toBe(24000);
    expect(out.length).toBe(resampledLength(input.length, 44100, 16000));
    expect(zeroCrossingHz(out, 16000)).toBeCloseTo(440, 1);
    expect(rms(middle(out, 16000)) / rms(middle(input, 44100))).toBeCloseTo(1, 3);
    // Sample for sample the tone computed at 16 kHz: no delay, no gain.
    const want = tone(440, 16000, out.length);
    let worst = 0;
    for (let t = 800; t < out.length - 800; t++) worst = Math.max(worst, Math.abs(out[t] - want[t]));
    expect(worst).toBeLessThan(1e-3);
  });

  it('removes what lies above 8 kHz instead of folding it down, and keeps what lies below', async () => {
    const kept = await resample(tone(7000, 44100, 44100), 44100, 16000);
    expect(rms(middle(kept, 16000))).toBeGreaterThan(0.3); // 0.354 for a sine of 0.5
    expect(zeroCrossingHz(kept, 16000)).toBeCloseTo(7000, 0);
    // 10 kHz would alias to 6 kHz if it were not filtered out.
    const removed = await resample(tone(10000, 44100, 44100), 44100, 16000);
    expect(rms(middle(removed, 16000))).toBeLessThan(1e-3);
  });

  it('upsamples (8 kHz) and odd lengths to the rounded ratio; the same rate is a copy; bad rates are refused', async () => {
    const up = await resample(tone(300, 8000, 8001), 8000, 16000);
    expect(up.length).toBe(16002);
    expect(zeroCrossingHz(up, 16000)).toBeCloseTo(300, 1);
    expect((await resample(tone(300, 48000, 4801), 48000, 16000)).length).toBe(1600);
    expect((await resample(new Float32Array(1), 48000, 16000)).length).toBe(0);
    const same = tone(300, 16000, 100);
    const copy = await resample(same, 16000, 16000);
    expect(copy).toEqual(same);
    expect(copy).not.toBe(same);
    await expect(resample(same, 0, 16000)).rejects.toThrow(/fromRate must be a positive number, got 0/);
    await expect(resample(same, 16000, Number.NaN)).rejects.toThrow(/toRate must be a positive number/);
    await expect(resample(same, 16000 * 300, 16000)).rejects.toThrow(/over libsamplerate's ratio of 256/);
  });
});
