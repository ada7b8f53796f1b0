// Griffin-Lim: audio whose STFT magnitudes approach given ones, by alternating projections (the
// baseline autoencoder predicts magnitudes only; Magenta rebuilt its audio this way, 1,000 rounds).
import { Rng } from '../util/rng.js';
import { istft, type StftOptions, stft } from './stft.js';

export interface GriffinLimOptions extends StftOptions {
  /** Rounds of STFT -> keep the phase -> inverse STFT. Default 1000, as the paper. */
  iterations?: number;
  /** Seed of the random initial phase. Default 0. */
  seed?: number;
  /**
   * Momentum of the "fast Griffin-Lim" of Perraudin et al. (librosa's default is 0.99); default 0,
   * the plain algorithm Magenta ran.
   */
  momentum?: number;
  /** Output length in samples. Default (frames - 1) * hop. */
  length?: number;
  /** Called after every round with the round and the spectral convergence so far (for progress bars). */
  onIteration?: (round: number, spectralConvergence: number) => void;
}

export interface GriffinLimResult {
  audio: Float32Array;
  /** || |STFT(audio)| - target ||_F / || target ||_F of the result (0: magnitudes matched exactly). */
  spectralConvergence: number;
}

/** `magnitude`: |S| of frame f, bin k at f * bins + k, for nFft / 2 + 1 bins per frame. */
export function griffinLim(magnitude: Float32Array, frames: number, o: GriffinLimOptions = {}): GriffinLimResult {
  const nFft = o.nFft ?? 1024;
  const hop = o.hop ?? 256;
  const bins = nFft / 2 + 1;
  if (magnitude.length !== frames * bins)
    throw new Error(`griffinLim: ${magnitude.length} magnitudes are not ${frames} frames of ${bins} bins`);
  const iterations = o.iterations ?? 1000;
  const momentum = o.momentum ?? 0;
  const length = o.length ?? (frames - 1) * hop;
  const rng = new Rng(o.seed ?? 0);
  const spec = { re: new Float32Array(frames * bins), im: new Float32Array(frames * bins), frames, bins, nFft, hop };
  for (let i = 0; i < magnitude.length; i++) {
    const phase = 2 * Math.PI * rng.next();
    spec.re[i] = magnitude[i] * Math.cos(phase);
    spec.im[i] = magnitude[i] * Math.sin(phase);
  }
  let targetNorm = 0;
  for (const m of magnitude) targetNorm += m * m;
  targetNorm = Math.sqrt(targetNorm) || 1;
  const prevRe = new Float32Array(frames * bins);
  const prevIm = new Float32Array(frames * bins);
  let audio = istft(spec, length);
  for (let round = 1; round <= iterations; round++) {
    const rebuilt = stft(audio, { nFft, hop, pad: o.pad });
    if (rebuilt.frames !== frames)
      throw new Error(`griffinLim: length ${length} gives ${rebuilt.frames} frames, not ${frames}`);
    let err = 0;
    for (let i = 0; i < magnitude.length; i++) {
      let re = rebuilt.re[i];
      let im = rebuilt.im[i];
      const mag = Math.hypot(re, im);
      err += (mag - magnitude[i]) ** 2;
      if (momentum) {
        const [r0, i0] = [re, im];
        re += momentum * (re - prevRe[i]);
        im += momentum * (im - prevIm[i]);
        prevRe[i] = r0;
        prevIm[i] = i0;
      }
      const m = Math.hypot(re, im);
      // Keep the phase, impose the target magnitude (a silent bin keeps phase 0).
      spec.re[i] = m > 0 ? (magnitude[i] * re) / m : magnitude[i];
      spec.im[i] = m > 0 ? (magnitude[i] * im) / m : 0;
    }
    o.onIteration?.(round, Math.sqrt(err) / targetNorm);
    audio = istft(spec, length);
  }
  // Measured on the audio returned (the loop's figure is of the round before the last projection).
  return { audio, spectralConvergence: spectralConvergence(audio, magnitude, frames, o) };
}

/** || |STFT(audio)| - target ||_F / || target ||_F. */
export function spectralConvergence(
  audio: Float32Array,
  magnitude: Float32Array,
  frames: number,
  o: StftOptions = {},
): number {
  const s = stft(audio, o);
  if (s.frames !== frames) throw new Error(`spectralConvergence: ${s.frames} frames, target has ${frames}`);
  let err = 0;
  let norm = 0;
  for (let i = 0; i < magnitude.length; i++) {
    err += (Math.hypot(s.re[i], s.im[i]) - magnitude[i]) ** 2;
    norm += magnitude[i] ** 2;
  }
  return Math.sqrt(err) / (Math.sqrt(norm) || 1);
}
