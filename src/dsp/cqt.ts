// The constant-Q transform of NSynth's rainbowgrams: 240 bins, 40 per octave from C2 (65.41 Hz,
// so up to 4.1 kHz), hop 256, filter scale 0.8 (librosa.cqt's arguments in Engel's plotting code).
//
// Computed by spectral kernels (Brown and Puckette 1992): each bin's filter, a Hann-windowed
// complex exponential Q periods long and normalised to unit L1 norm, is transformed once; a frame
// is then one FFT of the signal around its centre and, per bin, a sparse dot product with the
// filter's spectrum. A steady sinusoid of amplitude A at a bin's frequency reads |C| = A / 2 in
// every bin of its frequency (librosa's default `scale=True` divides by sqrt(filter length) as
// well; here loudness does not depend on the bin). CPU (fft.js): a 4-second note takes about
// 0.3 s, and the pictures it feeds are drawn once.
import FFT from 'fft.js';

export interface CqtOptions {
  sampleRate?: number;
  /** Samples between frames (frame t is centred on sample t * hop). Default 256. */
  hop?: number;
  /** Frequency of bin 0. Default C2, 65.406 Hz. */
  fmin?: number;
  binsPerOctave?: number;
  bins?: number;
  /** Filter length as a fraction of the length that makes neighbouring bins' passbands meet. Default 0.8. */
  filterScale?: number;
}

export interface Cqt {
  /** Frame t, bin k at t * bins + k. */
  re: Float32Array;
  im: Float32Array;
  frames: number;
  bins: number;
  hop: number;
  /** Centre frequency of every bin (Hz). */
  frequencies: Float64Array;
}

export const C2_HZ = 440 * 2 ** ((36 - 69) / 12);

interface Kernel {
  /** FFT bins where the filter's spectrum is not negligible, and its conjugate there / fftSize. */
  index: Int32Array;
  re: Float64Array;
  im: Float64Array;
}

interface KernelBank {
  fftSize: number;
  kernels: Kernel[];
  frequencies: Float64Array;
}

const banks = new Map<string, KernelBank>();

function kernelBank(sampleRate: number, fmin: number, perOctave: number, bins: number, scale: number): KernelBank {
  const key = [sampleRate, fmin, perOctave, bins, scale].join();
  const cached = banks.get(key);
  if (cached) return cached;
  const Q = scale / (2 ** (1 / perOctave) - 1);
  const frequencies = Float64Array.from({ length: bins }, (_, k) => fmin * 2 ** (k / perOctave));
  if (frequencies[bins - 1] * (1 + 1 / (2 * Q)) > sampleRate / 2)
    throw new Error(
      `cqt: the top bin (${frequencies[bins - 1].toFixed(0)} Hz) reaches past Nyquist (${sampleRate / 2} Hz)`,
    );
  const longest = Math.ceil((Q * sampleRate) / fmin);
  const fftSize = 2 ** Math.ceil(Math.log2(longest));
  const fft = new FFT(fftSize);
  const filter = fft.createComplexArray() as number[];
  const spectrum = fft.createComplexArray() as number[];
  const kernels: Kernel[] = [];
  for (const f of frequencies) {
    const n = Math.ceil((Q * sampleRate) / f);
    filter.fill(0);
    // Hann over n samples centred on fftSize / 2, so phase 0 sits at the frame's centre.
    const start = fftSize / 2 - Math.floor(n / 2);
    let l1 = 0;
    for (let i = 0; i < n; i++) l1 += 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n);
    for (let i = 0; i < n; i++) {
      const w = (0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n)) / l1;
      const phase = (2 * Math.PI * f * (start + i - fftSize / 2)) / sampleRate;
      filter[2 * (start + i)] = w * Math.cos(phase);
      filter[2 * (start + i) + 1] = w * Math.sin(phase);
    }
    fft.transform(spectrum, filter);
    // Keep the bins whose magnitude is over a thousandth of the peak (the rest is window leakage).
    let peak = 0;
    for (let j = 0; j <= fftSize / 2; j++) peak = Math.max(peak, Math.hypot(spectrum[2 * j], spectrum[2 * j + 1]));
    const keep: number[] = [];
    for (let j = 0; j <= fftSize / 2; j++)
      if (Math.hypot(spectrum[2 * j], spectrum[2 * j + 1]) > peak * 1e-3) keep.push(j);
    // Parseval: sum_n x[n] conj(h[n]) = (1 / N) sum_j X[j] conj(H[j]); h is analytic, so only
    // non-negative frequencies of the real signal meet it.
    kernels.push({
      index: Int32Array.from(keep),
      re: Float64Array.from(keep, (j) => spectrum[2 * j] / fftSize),
      im: Float64Array.from(keep, (j) => -spectrum[2 * j + 1] / fftSize),
    });
  }
  const bank = { fftSize, kernels, frequencies };
  banks.set(key, bank);
  return bank;
}

export function cqt(audio: Float32Array, o: CqtOptions = {}): Cqt {
  const sampleRate = o.sampleRate ?? 16000;
  const hop = o.hop ?? 256;
  const bins = o.bins ?? 240;
  const bank = kernelBank(sampleRate, o.fmin ?? C2_HZ, o.binsPerOctave ?? 40, bins, o.filterScale ?? 0.8);
  const { fftSize: N, kernels } = bank;
  const frames = 1 + Math.floor(audio.length / hop);
  const fft = new FFT(N);
  const segment = new Float64Array(N);
  const X = fft.createComplexArray() as number[];
  const re = new Float32Array(frames * bins);
  const im = new Float32Array(frames * bins);
  for (let t = 0; t < frames; t++) {
    // The N samples centred on t * hop, zeros beyond the note (a centred transform, like librosa's).
    const from = t * hop - N / 2;
    segment.fill(0);
    const lo = Math.max(0, -from);
    const hi = Math.min(N, audio.length - from);
    for (let i = lo; i < hi; i++) segment[i] = audio[from + i];
    fft.realTransform(X, segment);
    for (let k = 0; k < bins; k++) {
      const K = kernels[k];
      let sr = 0;
      let si = 0;
      for (let j = 0; j < K.index.length; j++) {
        const xr = X[2 * K.index[j]];
        const xi = X[2 * K.index[j] + 1];
        sr += xr * K.re[j] - xi * K.im[j];
        si += xr * K.im[j] + xi * K.re[j];
      }
      re[t * bins + k] = sr;
      im[t * bins + k] = si;
    }
  }
  return { re, im, frames, bins, hop, frequencies: bank.frequencies };
}
