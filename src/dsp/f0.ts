// Fundamental frequency by YIN (de Cheveigné and Kawahara 2002): the cumulative-mean-normalised
// difference function, the first dip under a threshold, parabolic refinement. Written here because
// the JavaScript YIN on npm (pitchfinder's) is a GPL port of aubio and this package is Apache-2.0.
// Used to judge reconstructions: does the model keep the note's pitch?

export interface F0Options {
  sampleRate?: number;
  /** Analysis window (samples); twice the longest period looked for. Default 1024 (down to ~31 Hz at 16 kHz). */
  window?: number;
  /** Samples between frames. Default 256. */
  hop?: number;
  /** Lowest and highest frequencies reported (Hz). Defaults 30 and 2200 (MIDI ~23 to ~97). */
  fmin?: number;
  fmax?: number;
  /** Dip threshold of the normalised difference (YIN's 0.1 by default): lower is stricter. */
  threshold?: number;
}

export interface F0Track {
  /** Hz per frame, 0 where the frame has no clear periodicity. */
  f0: Float32Array;
  /** 1 - the normalised difference at the chosen lag: near 1 for a clean periodic frame. */
  periodicity: Float32Array;
  /**
   * Every frame, voiced or not: 1 - the lowest normalised difference over the lags searched. Near 1
   * for a periodic frame, about 0.15 for white noise (median over frames): how close a frame is to
   * having a pitch, where `f0` only says whether it passed the threshold.
   */
  clarity: Float32Array;
  hop: number;
  sampleRate: number;
}

/** Per-frame f0 of a mono signal; frame k covers samples [k * hop, k * hop + window). */
export function yinF0(audio: Float32Array, o: F0Options = {}): F0Track {
  const sampleRate = o.sampleRate ?? 16000;
  const W = o.window ?? 1024;
  const hop = o.hop ?? 256;
  const threshold = o.threshold ?? 0.1;
  const maxLag = Math.min(Math.floor(W / 2), Math.floor(sampleRate / (o.fmin ?? 30)));
  const minLag = Math.max(2, Math.floor(sampleRate / (o.fmax ?? 2200)));
  if (!(maxLag > minLag + 2)) throw new Error(`yinF0: no lags between ${minLag} and ${maxLag} for a window of ${W}`);
  const frames = audio.length < W ? 0 : 1 + Math.floor((audio.length - W) / hop);
  const f0 = new Float32Array(frames);
  const periodicity = new Float32Array(frames);
  const clarity = new Float32Array(frames);
  const raw = new Float64Array(maxLag + 1);
  const d = new Float64Array(maxLag + 1);
  const half = W - maxLag; // samples compared at every lag
  for (let k = 0; k < frames; k++) {
    const x0 = k * hop;
    // Difference function d(tau) = sum_j (x_j - x_{j+tau})^2 over the first `half` samples.
    for (let tau = 1; tau <= maxLag; tau++) {
      let s = 0;
      for (let j = 0; j < half; j++) {
        const diff = audio[x0 + j] - audio[x0 + j + tau];
        s += diff * diff;
      }
      raw[tau] = s;
    }
    // Cumulative mean normalisation: d'(tau) = d(tau) * tau / sum_{1..tau} d.
    let running = 0;
    d[0] = 1;
    for (let tau = 1; tau <= maxLag; tau++) {
      running += raw[tau];
      d[tau] = running > 0 ? (raw[tau] * tau) / running : 1;
    }
    let lowest = 1;
    for (let t = Math.max(minLag, 2); t < maxLag; t++) lowest = Math.min(lowest, d[t]);
    clarity[k] = 1 - lowest;
    // The first local minimum whose parabola dips under the threshold, else no pitch. Judging the
    // interpolated dip, not the integer lag's value, keeps short non-integer periods (MIDI 90+ at
    // 16 kHz) from losing to their double.
    let tau = -1;
    let depth = 1;
    for (let t = Math.max(minLag, 2); t < maxLag; t++) {
      if (d[t] > d[t - 1] || d[t] > d[t + 1]) continue;
      const den = d[t - 1] - 2 * d[t] + d[t + 1];
      const dip = den > 0 ? d[t] - (d[t - 1] - d[t + 1]) ** 2 / (8 * den) : d[t];
      if (dip < threshold) {
        tau = t;
        depth = Math.max(0, dip);
        break;
      }
    }
    if (tau < 0) continue;
    // The minimum of the raw difference between lags (YIN's step 5), fitted with a cosine of the
    // period's own frequency rather than a parabola: d(tau) of a periodic signal is a sum of
    // cosines in tau, and a parabola misplaces the minimum by 10+ cents at periods of a few samples.
    let lag = tau;
    if (tau > 1 && tau < maxLag) {
      const a = raw[tau - 1];
      const b = raw[tau];
      const c = raw[tau + 1];
      const w = (2 * Math.PI) / tau;
      const u = (a + c - 2 * b) / (2 * (1 - Math.cos(w)));
      const v = (a - c) / (2 * Math.sin(w));
      if (u > 0) lag = tau + Math.atan2(v, u) / w;
    }
    f0[k] = sampleRate / lag;
    periodicity[k] = 1 - depth;
  }
  return { f0, periodicity, clarity, hop, sampleRate };
}

/** The median f0 of the voiced frames (0 when fewer than `minVoiced` of the frames are voiced). */
export function medianF0(track: F0Track, minVoiced = 0.25): number {
  const voiced = Array.from(track.f0).filter((v) => v > 0);
  if (voiced.length === 0 || voiced.length < minVoiced * track.f0.length) return 0;
  voiced.sort((a, b) => a - b);
  const m = voiced.length >> 1;
  return voiced.length % 2 ? voiced[m] : 0.5 * (voiced[m - 1] + voiced[m]);
}

/** 1200 log2(f / ref): the distance in cents (positive when f is higher). */
export function cents(f: number, ref: number): number {
  return 1200 * Math.log2(f / ref);
}

/** The frequency of a MIDI note number (A4 = 69 = 440 Hz). */
export function midiToHz(midi: number): number {
  return 440 * 2 ** ((midi - 69) / 12);
}

/**
 * The pitch error of a reconstruction: cents between the median f0 of `reconstruction` and of
 * `original`, or null when either has no clear f0 (fewer than a quarter of its frames voiced).
 */
export function f0ErrorCents(reconstruction: Float32Array, original: Float32Array, o: F0Options = {}): number | null {
  const a = medianF0(yinF0(reconstruction, o));
  const b = medianF0(yinF0(original, o));
  return a > 0 && b > 0 ? cents(a, b) : null;
}
