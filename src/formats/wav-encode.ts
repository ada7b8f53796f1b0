// Writing WAV (and raw s16le) bytes, with no Node imports: the CLI, the library and the browser
// (the demo's download) share it; reading and files are in wav.ts.

/** The model's sample rate: what every note is read at and every output is written at. */
export const MODEL_RATE = 16000;

export const WAVE_FORMAT_PCM = 1;
export const WAVE_FORMAT_IEEE_FLOAT = 3;
export const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Sample formats a WAV is written in: 16-bit PCM, or 32-bit float (exact). */
export type WavDepth = '16' | '32f';

/** Samples as 16-bit integers: clipped to [-1, 1] and rounded, -1 to -32768 and 1 to 32767 (as read back). */
export function toInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    const clipped = Math.min(1, Math.max(-1, v)); // NaN stays NaN, stored as 0 below
    out[i] = Math.round(clipped < 0 ? clipped * 32768 : clipped * 32767);
  }
  return out;
}

/** Samples as raw 16-bit little-endian PCM (s16le), whatever the machine's byte order. */
export function encodePcm16(samples: Float32Array): Uint8Array {
  const ints = toInt16(samples);
  const bytes = new Uint8Array(ints.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < ints.length; i++) view.setInt16(2 * i, ints[i], true);
  return bytes;
}

/** KSDATAFORMAT_SUBTYPE_IEEE_FLOAT, 00000003-0000-0010-8000-00aa00389b71, as stored (mixed-endian GUID). */
const SUBTYPE_IEEE_FLOAT = Uint8Array.of(3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71);
/** SPEAKER_FRONT_CENTER: a mono file's one channel. */
const SPEAKER_FRONT_CENTER = 0x4;

/**
 * A mono WAV: 32-bit float (`32f`, the default: exact; WAVE_FORMAT_EXTENSIBLE, 40-byte fmt chunk,
 * `fact` chunk) or 16-bit PCM (`16`: half the size, plays everywhere; see toInt16).
 */
export function encodeWav(samples: Float32Array, sampleRate = MODEL_RATE, depth: WavDepth = '32f'): Uint8Array {
  const float = depth === '32f';
  const width = float ? 4 : 2;
  const fmtSize = float ? 40 : 16;
  const factSize = float ? 12 : 0;
  const dataBytes = samples.length * width;
  const pad = dataBytes % 2; // never, at 2 or 4 bytes a sample; RIFF chunks are word-aligned
  const bytes = new Uint8Array(12 + 8 + fmtSize + factSize + 8 + dataBytes + pad);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) bytes[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, bytes.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, float ? WAVE_FORMAT_EXTENSIBLE : WAVE_FORMAT_PCM, true);
  view.setUint16(22, 1, true); // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * width, true); // bytes per second
  view.setUint16(32, width, true); // block align
  view.setUint16(34, width * 8, true); // bits per sample
  let at = 36;
  if (float) {
    view.setUint16(36, 22, true); // extension size
    view.setUint16(38, 32, true); // valid bits per sample
    view.setUint32(40, SPEAKER_FRONT_CENTER, true);
    bytes.set(SUBTYPE_IEEE_FLOAT, 44);
    ascii(60, 'fact');
    view.setUint32(64, 4, true);
    view.setUint32(68, samples.length, true); // sample frames
    at = 72;
  }
  ascii(at, 'data');
  view.setUint32(at + 4, dataBytes, true);
  if (float) for (let i = 0; i < samples.length; i++) view.setFloat32(at + 8 + 4 * i, samples[i], true);
  else bytes.set(encodePcm16(samples), at + 8);
  return bytes;
}
