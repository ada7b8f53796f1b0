// The short-time Fourier transform and its inverse, as the NSynth baseline uses them (Hann window,
// n_fft 1024, hop 256, frames centred on t * hop), and Magenta's log-magnitude scaling.
//
// On the CPU with fft.js, not in WGSL: one 4-second note is 251 FFTs of 1,024 points (about 5 ms);
// even Griffin-Lim's 1,000 round trips take seconds, and the GPU would first need an FFT kernel
// that beats this on a software adapter. The reference and the implementation are one here.
import FFT from 'fft.js';

export interface StftOptions {
  /** FFT size and Hann window length (a power of two). Default 1024. */
  nFft?: number;
  /** Samples between frames. Default 256. */
  hop?: number;
  /**
   * How the signal is extended by nFft/2 at both ends so frame t is centred on sample t * hop:
   * 'reflect' (default; librosa before 0.10, which Magenta's baseline used) or 'zeros'.
   */
  pad?: 'reflect' | 'zeros';
}

/** A complex spectrogram: frame f, bin k at index f * bins + k (bins = nFft / 2 + 1). */
export interface Spectrogram {
  re: Float32Array;
  im: Float32Array;
  frames: number;
  bins: number;
  nFft: number;
  hop: number;
}

const ffts = new Map<number, FFT>();
function fftOf(n: number): FFT {
  if (!(n >= 4 && Number.isInteger(Math.log2(n))))
    throw new Error(`nFft must be a power of two of at least 4, got ${n}`);
  let f = ffts.get(n);
  if (!f) {
    f = new FFT(n);
    ffts.set(n, f);
  }
  return f;
}

const windows = new Map<number, Float64Array>();
/** The periodic Hann window (scipy's `get_window('hann', n)`, librosa's default). */
export function hann(n: number): Float64Array {
  let w = windows.get(n);
  if (!w) {
    w = Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
    windows.set(n, w);
  }
  return w;
}

/** Frames of a centred STFT of `length` samples. */
export function stftFrames(length: number, hop = 256): number {
  return 1 + Math.floor(length / hop);
}

function padded(audio: Float32Array, half: number, mode: 'reflect' | 'zeros'): Float64Array {
  const n = audio.length;
  if (mode === 'reflect' && n <= half)
    throw new Error(`stft: reflect padding needs more than ${half} samples, got ${n} (use pad: 'zeros')`);
  const out = new Float64Array(n + 2 * half);
  out.set(audio, half);
  if (mode === 'reflect')
    for (let i = 1; i <= half; i++) {
      out[half - i] = audio[i];
      out[half + n - 1 + i] = audio[n - 1 - i];
    }
  return out;
}

export function stft(audio: Float32Array, o: StftOptions = {}): Spectrogram {
  const nFft = o.nFft ?? 1024;
  const hop = o.hop ?? 256;
  if (!(Number.isInteger(hop) && hop >= 1)) throw new Error(`stft: hop must be a positive integer, got ${hop}`);
  const fft = fftOf(nFft);
  const x = padded(audio, nFft / 2, o.pad ?? 'reflect');
  const w = hann(nFft);
  const frames = stftFrames(audio.length, hop);
  const bins = nFft / 2 + 1;
  const re = new Float32Array(frames * bins);
  const im = new Float32Array(frames * bins);
  const frame = new Float64Array(nFft);
  const out = fft.createComplexArray() as number[];
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < nFft; i++) frame[i] = x[f * hop + i] * w[i];
    fft.realTransform(out, frame);
    for (let k = 0; k < bins; k++) {
      re[f * bins + k] = out[2 * k];
      im[f * bins + k] = out[2 * k + 1];
    }
  }
  return { re, im, frames, bins, nFft, hop };
}

/**
 * The inverse: each frame's inverse FFT, windowed again and overlap-added, divided by the summed
 * squared window (the least-squares inverse of Griffin and Lim, which librosa's istft is), with the
 * centre padding cut off. `length` defaults to (frames - 1) * hop.
 */
export function istft(s: Spectrogram, length = (s.frames - 1) * s.hop): Float32Array {
  const { nFft, hop, frames, bins } = s;
  const fft = fftOf(nFft);
  const w = hann(nFft);
  const half = nFft / 2;
  const total = nFft + (frames - 1) * hop;
  const acc = new Float64Array(total);
  const norm = new Float64Array(total);
  const spectrum = fft.createComplexArray() as number[];
  const out = fft.createComplexArray() as number[];
  for (let f = 0; f < frames; f++) {
    // The full Hermitian spectrum of a real frame, then fft.js's complex inverse (it divides by n).
    for (let k = 0; k < bins; k++) {
      spectrum[2 * k] = s.re[f * bins + k];
      spectrum[2 * k + 1] = s.im[f * bins + k];
    }
    for (let k = bins; k < nFft; k++) {
      spectrum[2 * k] = s.re[f * bins + nFft - k];
      spectrum[2 * k + 1] = -s.im[f * bins + nFft - k];
    }
    fft.inverseTransform(out, spectrum);
    for (let i = 0; i < nFft; i++) {
      acc[f * hop + i] += out[2 * i] * w[i];
      norm[f * hop + i] += w[i] * w[i];
    }
  }
  const y = new Float32Array(length);
  for (let i = 0; i < length && i + half < total; i++) {
    const n = norm[i + half];
    y[i] = n > 1e-10 ? acc[i + half] / n : 0;
  }
  return y;
}

export interface LogMagnitudeOptions {
  /** Range below the loudest bin that maps onto [0, 1] (Magenta: 120 for the baseline, 70 for rainbowgrams). */
  topDb?: number;
  /** Power floor before the logarithm. Default 1e-13, as Magenta. */
  amin?: number;
}

/**
 * Magenta's scaling of a power spectrum onto [0, 1]: `power_to_db(P, ref=max(P), amin, top_db)`
 * divided by top_db, plus 1 (the loudest bin is 1; anything top_db or more below it is 0).
 */
export function logMagnitudeScale(power: Float32Array, o: LogMagnitudeOptions = {}): Float32Array {
  const topDb = o.topDb ?? 120;
  const amin = o.amin ?? 1e-13;
  let ref = 0;
  for (const p of power) ref = Math.max(ref, p);
  const refDb = 10 * Math.log10(Math.max(amin, ref));
  return Float32Array.from(power, (p) => {
    const db = 10 * Math.log10(Math.max(amin, p)) - refDb;
    return Math.max(-topDb, db) / topDb + 1;
  });
}

/** Its inverse onto magnitudes |S| (not powers), relative to a loudest bin of magnitude `peak`. */
export function magnitudeFromScaled(scaled: Float32Array, o: { topDb?: number; peak?: number } = {}): Float32Array {
  const topDb = o.topDb ?? 120;
  const peak = o.peak ?? 1;
  return Float32Array.from(scaled, (m) => peak * 10 ** (((m - 1) * topDb) / 20));
}

/** |S|^2 of every bin. */
export function power(s: Spectrogram): Float32Array {
  return Float32Array.from(s.re, (r, i) => r * r + s.im[i] * s.im[i]);
}
