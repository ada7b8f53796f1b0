// Spectral distances on the CPU (fft.js): log-magnitude STFT frames and the log-spectral distance
// between two notes, the measure of how close a reconstruction sounds to its original beyond pitch.
import FFT from 'fft.js';
import { hann, type StftOptions } from './stft.js';

export type { StftOptions };

/** Power spectra |X|^2 of Hann-windowed frames [frames][nFft / 2 + 1] (frames start every hop samples). */
export function powerSpectrogram(audio: Float32Array, o: StftOptions = {}): Float64Array[] {
  const n = o.nFft ?? 1024;
  const hop = o.hop ?? 256;
  const fft = new FFT(n);
  const window = hann(n);
  const frame = new Float64Array(n);
  const out = fft.createComplexArray() as number[];
  const frames: Float64Array[] = [];
  for (let start = 0; start + n <= audio.length; start += hop) {
    for (let i = 0; i < n; i++) frame[i] = audio[start + i] * window[i];
    fft.realTransform(out, frame);
    const p = new Float64Array(n / 2 + 1);
    for (let k = 0; k <= n / 2; k++) p[k] = out[2 * k] ** 2 + out[2 * k + 1] ** 2;
    frames.push(p);
  }
  return frames;
}

/**
 * Log-spectral distance in dB: per frame, the RMS over frequency bins of the difference of the two
 * log power spectra (10 log10, floored at -80 dB below the louder note's peak), averaged over the
 * frames both notes have. 0 for identical notes.
 */
export function logSpectralDistance(a: Float32Array, b: Float32Array, o: StftOptions = {}): number {
  const A = powerSpectrogram(a, o);
  const B = powerSpectrogram(b, o);
  const frames = Math.min(A.length, B.length);
  if (frames === 0)
    throw new Error(`logSpectralDistance: notes of ${a.length} and ${b.length} samples are shorter than one frame`);
  let peak = 0;
  for (const S of [A, B]) for (let f = 0; f < frames; f++) for (const v of S[f]) peak = Math.max(peak, v);
  const floor = Math.max(peak * 1e-8, 1e-20);
  let total = 0;
  for (let f = 0; f < frames; f++) {
    let sq = 0;
    for (let k = 0; k < A[f].length; k++) {
      const diff = 10 * Math.log10(Math.max(A[f][k], floor)) - 10 * Math.log10(Math.max(B[f][k], floor));
      sq += diff * diff;
    }
    total += Math.sqrt(sq / A[f].length);
  }
  return total / frames;
}

/**
 * Multi-scale spectral distance (the loss of DDSP, Engel et al. 2020, used here as a measure): over
 * FFT sizes 2048 down to 64 (hop a quarter of each), the mean absolute difference of magnitudes
 * plus that of their natural logs (floored at 1e-7), summed over the scales. 0 for identical notes;
 * it sees the fine time structure that the 1024-point log-spectral distance averages away.
 */
export function multiScaleSpectralDistance(
  a: Float32Array,
  b: Float32Array,
  sizes: number[] = [2048, 1024, 512, 256, 128, 64],
): number {
  const n = Math.min(a.length, b.length);
  let total = 0;
  for (const nFft of sizes) {
    const A = powerSpectrogram(a.subarray(0, n), { nFft, hop: nFft / 4 });
    const B = powerSpectrogram(b.subarray(0, n), { nFft, hop: nFft / 4 });
    if (A.length === 0) continue; // shorter than this FFT
    let lin = 0;
    let log = 0;
    let count = 0;
    for (let f = 0; f < A.length; f++)
      for (let k = 0; k < A[f].length; k++) {
        const ma = Math.sqrt(A[f][k]);
        const mb = Math.sqrt(B[f][k]);
        lin += Math.abs(ma - mb);
        log += Math.abs(Math.log(Math.max(ma, 1e-7)) - Math.log(Math.max(mb, 1e-7)));
        count++;
      }
    total += (lin + log) / count;
  }
  return total;
}
