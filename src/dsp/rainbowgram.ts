// The rainbowgram (Engel et al. 2017): a constant-Q spectrogram whose brightness is log magnitude
// and whose colour is instantaneous frequency, so a steady partial is one clean colour and a
// wandering phase shows as colour noise. As in Engel's plotting code: CQT 240 bins from C2, 40 per
// octave, hop 256; brightness = Magenta's log-magnitude scaling over 70 dB; colour = matplotlib's
// "rainbow" map of the IF. Low frequencies at the bottom. Pixels only: src/eval/figure.ts adds axes.
import { type CqtOptions, cqt } from './cqt.js';
import { instantaneousFrequency } from './instantaneous-frequency.js';
import { logMagnitudeScale } from './stft.js';

export interface RainbowgramOptions extends CqtOptions {
  /** Dynamic range of the brightness in dB below the loudest bin. Default 70. */
  topDb?: number;
}

export interface Rainbowgram {
  /** One pixel per frame (x) and bin (y, bin 0 = bottom row), RGBA. */
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
  /** Brightness in [0, 1] and IF in (-1, 1], frame t, bin k at t * bins + k (for tests and plots). */
  brightness: Float32Array;
  instantaneousFrequency: Float32Array;
  frequencies: Float64Array;
  hop: number;
  sampleRate: number;
}

/**
 * matplotlib's "rainbow" colour map at x in [0, 1] (its definition: red |2x - 1/2|, green sin(pi x),
 * blue cos(pi x / 2), each clipped to [0, 1]): violet through blue, green and yellow to red.
 */
export function rainbowColour(x: number): [number, number, number] {
  const c = Math.min(1, Math.max(0, x));
  return [Math.min(1, Math.abs(2 * c - 0.5)), Math.sin(Math.PI * c), Math.cos((Math.PI * c) / 2)];
}

export function rainbowgram(audio: Float32Array, o: RainbowgramOptions = {}): Rainbowgram {
  const c = cqt(audio, o);
  const power = Float32Array.from(c.re, (r, i) => r * r + c.im[i] * c.im[i]);
  const brightness = logMagnitudeScale(power, { topDb: o.topDb ?? 70 });
  const ifreq = instantaneousFrequency(c.re, c.im, c.bins);
  const width = c.frames;
  const height = c.bins;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let t = 0; t < width; t++)
    for (let k = 0; k < height; k++) {
      const i = t * height + k;
      // A black layer whose opacity falls as brightness rises, over the IF colour: colour x brightness.
      // The colour maps IF's range [-1, 1] onto the map (Engel's plots auto-scale to the data's
      // range, which for IF is nearly the same; a fixed range keeps pictures comparable).
      const [r, g, b] = rainbowColour((ifreq[i] + 1) / 2);
      const m = brightness[i];
      const p = ((height - 1 - k) * width + t) * 4;
      rgba[p] = 255 * r * m;
      rgba[p + 1] = 255 * g * m;
      rgba[p + 2] = 255 * b * m;
      rgba[p + 3] = 255;
    }
  return {
    rgba,
    width,
    height,
    brightness,
    instantaneousFrequency: ifreq,
    frequencies: c.frequencies,
    hop: c.hop,
    sampleRate: o.sampleRate ?? 16000,
  };
}
