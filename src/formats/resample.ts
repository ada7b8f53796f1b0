// Sample-rate conversion to the model's 16 kHz with libsamplerate (Erik de Castro Lopo's Secret Rabbit
// Code, compiled to WebAssembly): band-limited sinc interpolation, so a 44.1 kHz note keeps its pitch
// and loses only what lies above the new Nyquist frequency. Pure (no file system): it runs in a
// browser as well as in Node.
import libsamplerate from '@alexanderolsen/libsamplerate-js';

/** libsamplerate's sinc converters: `best` (the default) keeps 97% of the band, `medium` 90%, `fastest` 80%. */
export type ResampleQuality = 'best' | 'medium' | 'fastest';

const CONVERTERS = {
  best: libsamplerate.ConverterType.SRC_SINC_BEST_QUALITY,
  medium: libsamplerate.ConverterType.SRC_SINC_MEDIUM_QUALITY,
  fastest: libsamplerate.ConverterType.SRC_SINC_FASTEST,
} as const;

/** libsamplerate converts between rates at most 256 times apart. */
const MAX_RATIO = 256;

/** The length `samples` input samples have at the new rate (the ratio of the rates, rounded). */
export function resampledLength(samples: number, fromRate: number, toRate: number): number {
  return Math.round((samples * toRate) / fromRate);
}

/**
 * Mono `samples` at `fromRate` Hz resampled to `toRate` Hz: exactly resampledLength(...) samples,
 * aligned with the input (sample 0 is the same instant). The input is unchanged; the same rate
 * gives a copy.
 */
export async function resample(
  samples: Float32Array,
  fromRate: number,
  toRate: number,
  quality: ResampleQuality = 'best',
): Promise<Float32Array> {
  for (const [name, rate] of [
    ['fromRate', fromRate],
    ['toRate', toRate],
  ] as const)
    if (!Number.isFinite(rate) || rate <= 0)
      throw new Error(`resample: ${name} must be a positive number, got ${rate}`);
  if (toRate / fromRate > MAX_RATIO || fromRate / toRate > MAX_RATIO)
    throw new Error(`resample: ${fromRate} Hz to ${toRate} Hz is over libsamplerate's ratio of ${MAX_RATIO}`);
  if (fromRate === toRate) return samples.slice();
  const wanted = resampledLength(samples.length, fromRate, toRate);
  if (wanted === 0) return new Float32Array(0);
  const converter = await libsamplerate.create(1, fromRate, toRate, { converterType: CONVERTERS[quality] });
  try {
    // One second per call: the wrapper splits larger inputs itself (over 4 MB) but then reads them from
    // the start of their buffer, whatever their offset. The streaming (`full`) API keeps the filter's
    // state from call to call; its last samples come out once zeros follow, as at libsamplerate's
    // end of input, and the result is cut to the length the ratio gives.
    const step = Math.max(1, Math.ceil(fromRate));
    const parts: Float32Array[] = [];
    let have = 0;
    const feed = (input: Float32Array) => {
      const out = converter.full(input);
      parts.push(out);
      have += out.length;
    };
    for (let i = 0; i < samples.length; i += step) feed(samples.slice(i, i + step));
    // The filter's delay is far under a second at any ratio: a few rounds of silence flush it.
    const silence = new Float32Array(step);
    for (let round = 0; have < wanted; round++) {
      if (round === 8) throw new Error(`resample: libsamplerate gave ${have} of ${wanted} samples`);
      feed(silence);
    }
    const out = new Float32Array(wanted);
    let at = 0;
    for (const p of parts) {
      if (at >= wanted) break;
      out.set(p.subarray(0, wanted - at), at);
      at += p.length;
    }
    return out;
  } finally {
    converter.destroy();
  }
}
