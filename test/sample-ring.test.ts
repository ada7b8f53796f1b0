// The ring between model.stream and the AudioWorklet (src/stream/): wrap-around, refused
// overflows, and underruns counted as a listener hears them; and the resampler behind it for
// audio contexts that do not run at 16 kHz.
import { describe, expect, it } from 'vitest';
import { SampleRing } from '../src/stream/sample-ring.js';
import { LinearResampler } from '../src/stream/linear-resampler.js';
import { medianF0, yinF0 } from '../src/dsp/f0.js';

const ramp = (from: number, n: number) => Float32Array.from({ length: n }, (_, i) => from + i);

describe('SampleRing', () => {
  it('wraps around its end and gives samples back in order', () => {
    const ring = new SampleRing(8);
    const got: number[] = [];
    const out = new Float32Array(3);
    let next = 0;
    for (let round = 0; round < 10; round++) {
      expect(ring.write(ramp(next, 5))).toBe(true);
      next += 5;
      while (ring.buffered >= 3) {
        expect(ring.read(out)).toBe(3);
        got.push(...out);
      }
    }
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i));
    expect(got.length).toBe(48);
    expect(ring.state()).toMatchObject({ written: 50, consumed: 48, buffered: 2, underruns: 0, overflows: 0 });
  });

  it('refuses a chunk that does not fit, whole, and counts it; the chunk fits once the reader has read', () => {
    const ring = new SampleRing(8);
    expect(ring.write(ramp(0, 6))).toBe(true);
    expect(ring.write(ramp(6, 3))).toBe(false);
    expect(ring.state()).toMatchObject({ written: 6, buffered: 6, overflows: 1 });
    const out = new Float32Array(4);
    ring.read(out);
    expect(ring.write(ramp(6, 3))).toBe(true);
    const rest = new Float32Array(5);
    expect(ring.read(rest)).toBe(5);
    expect(Array.from(out).concat(Array.from(rest))).toEqual(Array.from(ramp(0, 9)));
    expect(() => new SampleRing(4, { prebuffer: 5 })).toThrow(/prebuffer must be an integer from 0 to the capacity/);
    expect(() => new SampleRing(0)).toThrow(/capacity must be a positive integer/);
  });

  it('counts no underrun before the first prebuffer fills, then one per starvation episode', () => {
    const ring = new SampleRing(64, { prebuffer: 10 });
    const out = new Float32Array(4);
    // Waiting for the prebuffer: silence, not an underrun, however long.
    for (let i = 0; i < 5; i++) expect(ring.read(out)).toBe(0);
    ring.write(ramp(1, 6));
    expect(ring.read(out)).toBe(0);
    expect(ring.state()).toMatchObject({ started: false, underruns: 0, starvedSamples: 0 });
    ring.write(ramp(7, 4));
    expect(ring.read(out)).toBe(4);
    expect(Array.from(out)).toEqual([1, 2, 3, 4]);
    expect(ring.started).toBe(true);
    expect(ring.read(out)).toBe(4);
    // 2 left for a read of 4: the first underrun, the rest of the block silent.
    expect(ring.read(out)).toBe(2);
    expect(Array.from(out)).toEqual([9, 10, 0, 0]);
    expect(ring.state().underruns).toBe(1);
    // Still starved (and refilling to the prebuffer): the same episode.
    for (let i = 0; i < 3; i++) expect(ring.read(out)).toBe(0);
    ring.write(ramp(11, 5));
    expect(ring.read(out)).toBe(0);
    expect(ring.state()).toMatchObject({ underruns: 1, starvedSamples: 2 + 4 * 4 });
    ring.write(ramp(16, 5));
    expect(ring.read(out)).toBe(4);
    expect(Array.from(out)).toEqual([11, 12, 13, 14]);
    // Drained again exactly at a block's end: the underrun is the next block's.
    ring.read(out);
    expect(ring.buffered).toBe(2);
    ring.read(new Float32Array(2));
    expect(ring.state().underruns).toBe(1);
    expect(ring.read(out)).toBe(0);
    expect(ring.state().underruns).toBe(2);
  });

  it('plays a stream shorter than the prebuffer once it ends, and running dry after the end is no underrun', () => {
    const ring = new SampleRing(64, { prebuffer: 32 });
    const out = new Float32Array(8);
    ring.write(ramp(1, 12));
    expect(ring.read(out)).toBe(0);
    ring.end();
    expect(() => ring.write(ramp(0, 1))).toThrow(/write after end/);
    expect(ring.read(out)).toBe(8);
    expect(ring.read(out)).toBe(4);
    expect(ring.read(out)).toBe(0);
    expect(ring.state()).toMatchObject({ consumed: 12, underruns: 0, starvedSamples: 0, started: true, drained: true });
  });
});

describe('LinearResampler', () => {
  it('takes the source samples its output needs and keeps a tone at its pitch (16 to 48 kHz and 44.1 kHz)', () => {
    for (const rate of [48000, 44100]) {
      const hz = 261.63;
      const source = Float32Array.from({ length: 16000 }, (_, i) => Math.sin((2 * Math.PI * hz * i) / 16000));
      const ring = new SampleRing(source.length);
      ring.write(source);
      ring.end();
      const r = new LinearResampler(16000, rate);
      const out = new Float32Array(Math.floor(rate * 0.9));
      const block = new Float32Array(128);
      let consumed = 0;
      for (let i = 0; i + 128 <= out.length; i += 128) {
        consumed += r.render(block, (into) => ring.read(into));
        out.set(block, i);
      }
      expect(Math.abs(consumed - Math.floor(out.length / 128) * 128 * (16000 / rate))).toBeLessThan(2);
      const f0 = medianF0(
        yinF0(out.subarray(0, Math.floor(out.length / 128) * 128), { sampleRate: rate, window: 2048 }),
      );
      expect(Math.abs(1200 * Math.log2(f0 / hz))).toBeLessThan(5);
    }
  });
});
