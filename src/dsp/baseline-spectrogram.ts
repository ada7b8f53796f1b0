// The spectrogram baseline's input and output: a note's log magnitudes as Magenta's reader made
// them (STFT n_fft 1024 / hop 256, power_to_db with ref = the note's max over 120 dB, scaled to
// [0, 1]; Nyquist row dropped, frames zero-padded 251 -> 256), laid out [freq, time]; and back to
// audio by Griffin-Lim (the Nyquist row re-added as zeros, the padding frames dropped).
import type { BaselineConfig } from '../model/baseline-config.js';
import { type GriffinLimOptions, griffinLim } from './griffin-lim.js';
import { logMagnitudeScale, magnitudeFromScaled, power, stft } from './stft.js';

type Geometry = Pick<BaselineConfig, 'nFft' | 'hop' | 'samples' | 'freqBins' | 'timeFrames' | 'topDb'>;

/** A note (cut or zero-padded to c.samples) -> log magnitudes [freqBins * timeFrames], cell (f, t) at f * timeFrames + t. */
export function baselineInput(audio: Float32Array, c: Geometry): Float32Array {
  const note = new Float32Array(c.samples);
  note.set(audio.subarray(0, c.samples));
  const s = stft(note, { nFft: c.nFft, hop: c.hop });
  const scaled = logMagnitudeScale(power(s), { topDb: c.topDb });
  const out = new Float32Array(c.freqBins * c.timeFrames);
  for (let t = 0; t < s.frames; t++)
    for (let f = 0; f < c.freqBins; f++) out[f * c.timeFrames + t] = scaled[t * s.bins + f];
  return out;
}

/**
 * Log magnitudes [freqBins * timeFrames] -> audio of c.samples by Griffin-Lim (default 1,000 rounds,
 * as the paper). The scaling kept only magnitudes relative to the note's loudest bin, so the result
 * is peak-normalised to `peak` (Magenta: 1).
 */
export function baselineAudio(
  logMagnitudes: Float32Array,
  c: Geometry,
  o: GriffinLimOptions & { peak?: number } = {},
): Float32Array {
  if (logMagnitudes.length !== c.freqBins * c.timeFrames)
    throw new Error(`baselineAudio: ${logMagnitudes.length} values are not ${c.freqBins} x ${c.timeFrames}`);
  const frames = 1 + Math.floor(c.samples / c.hop);
  const bins = c.nFft / 2 + 1;
  const scaled = new Float32Array(frames * bins);
  for (let t = 0; t < frames; t++)
    for (let f = 0; f < c.freqBins; f++) scaled[t * bins + f] = logMagnitudes[f * c.timeFrames + t];
  const magnitude = magnitudeFromScaled(scaled, { topDb: c.topDb });
  for (let t = 0; t < frames; t++) magnitude[t * bins + bins - 1] = 0; // the dropped Nyquist row
  const { audio } = griffinLim(magnitude, frames, { ...o, nFft: c.nFft, hop: c.hop, length: c.samples });
  let max = 0;
  for (const v of audio) max = Math.max(max, Math.abs(v));
  const gain = max > 0 ? (o.peak ?? 1) / max : 0;
  return Float32Array.from(audio, (v) => v * gain);
}
