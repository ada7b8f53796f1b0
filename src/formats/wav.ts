// WAV in and out. In: any PCM or float WAV through `wavefile` (16-bit and 32-bit float decoded
// directly), channels averaged to mono; `readWav16k` takes 16 kHz only (the dataset readers: NSynth
// is 16 kHz), `readWavResampled` converts any rate with libsamplerate and says what it did. Out:
// 16-bit PCM (clipped to [-1, 1], rounded) or 32-bit float with a WAVE_FORMAT_EXTENSIBLE header and
// a `fact` chunk, as the WAV specification asks of formats other than PCM. Errors name the file.
import * as fs from 'node:fs';
import wavefilePkg from 'wavefile';
import { writeFileAtomic } from './atomic-write.js';
import { resample } from './resample.js';
import {
  MODEL_RATE,
  WAVE_FORMAT_EXTENSIBLE,
  WAVE_FORMAT_IEEE_FLOAT,
  WAVE_FORMAT_PCM,
  encodeWav,
  type WavDepth,
} from './wav-encode.js';

// The writers live in wav-encode.ts (no Node imports, so the browser bundle has them too).
export { MODEL_RATE, encodePcm16, encodeWav, toInt16, type WavDepth } from './wav-encode.js';

const { WaveFile } = wavefilePkg as unknown as { WaveFile: typeof import('wavefile').WaveFile };

export interface Audio {
  /** Mono: the channels averaged. */
  samples: Float32Array;
  sampleRate: number;
  /** Channels in the file (averaged into `samples`). */
  channels: number;
}

/** The format code an extensible header's sub-format GUID stands for (its first two bytes), else null. */
function extensibleFormat(fmt: { audioFormat: number; subformat?: number[] }): number | null {
  if (fmt.audioFormat !== WAVE_FORMAT_EXTENSIBLE || !fmt.subformat?.length) return null;
  // wavefile reads the 16-byte GUID as four uint32s; KSDATAFORMAT_SUBTYPE_PCM and _IEEE_FLOAT are
  // 0000000X-0000-0010-8000-00aa00389b71 with X the plain format code.
  const [d1, d2, d3, d4] = fmt.subformat;
  return d2 === 0x00100000 && d3 === 0xaa000080 && d4 === 0x719b3800 ? d1 : null;
}

export function decodeWav(bytes: Uint8Array, where: string): Audio {
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (e) {
    throw new Error(`${where}: not a readable WAV file (${(e as Error).message})`);
  }
  // Copy the format out first: toBitDepth rebuilds the fmt chunk in place.
  const { numChannels, sampleRate } = wav.fmt as { numChannels: number; sampleRate: number };
  if (numChannels === undefined || sampleRate === undefined) throw new Error(`${where}: WAV has no format chunk`);
  if (!(numChannels > 0)) throw new Error(`${where}: the format chunk says ${numChannels} channels`);
  if (!(sampleRate > 0)) throw new Error(`${where}: the format chunk says a sample rate of ${sampleRate} Hz`);
  const data = wav.data as { chunkSize?: number; samples?: Uint8Array };
  if (data.chunkSize !== undefined && data.samples && data.samples.byteLength < data.chunkSize)
    throw new Error(
      `${where}: the header promises ${data.chunkSize} bytes of samples, the file holds ${data.samples.byteLength} (truncated)`,
    );
  const fast = fastSamples(wav, numChannels);
  if (fast) return { samples: fast, sampleRate, channels: numChannels };
  try {
    if (wav.bitDepth !== '32f') wav.toBitDepth('32f');
  } catch (e) {
    throw new Error(`${where}: cannot convert ${wav.bitDepth}-bit samples (${(e as Error).message})`);
  }
  const raw = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const channels = Array.isArray(raw) ? raw : [raw];
  const n = channels[0]?.length ?? 0;
  const samples = new Float32Array(n);
  for (const ch of channels) for (let i = 0; i < n; i++) samples[i] += ch[i] / channels.length;
  return { samples, sampleRate, channels: numChannels };
}

/**
 * 16-bit PCM and 32-bit float, the formats of NSynth and of our own outputs (plain or extensible
 * headers), decoded directly from the data chunk: wavefile's generic toBitDepth takes ~250 ms per 4 s
 * note (reading NSynth's 900 training notes took 4 minutes), this ~1 ms. The values are exactly
 * toBitDepth's (int16 over 32768 below zero, over 32767 above; channels averaged in float32 as
 * below). Null for other formats.
 */
function fastSamples(wav: InstanceType<typeof WaveFile>, channels: number): Float32Array | null {
  const data = (wav.data as { samples?: Uint8Array }).samples;
  const fmt = wav.fmt as { audioFormat: number; bitsPerSample: number; subformat?: number[] };
  const format = extensibleFormat(fmt) ?? fmt.audioFormat;
  const pcm16 = fmt.bitsPerSample === 16 && format === WAVE_FORMAT_PCM;
  const f32 = fmt.bitsPerSample === 32 && format === WAVE_FORMAT_IEEE_FLOAT;
  if (!data || !(pcm16 || f32)) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const width = pcm16 ? 2 : 4;
  const n = Math.floor(data.byteLength / (width * channels));
  const out = new Float32Array(n);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < n; i++) {
      const at = (i * channels + c) * width;
      let v: number;
      if (pcm16) {
        const x = view.getInt16(at, true);
        v = Math.fround(x < 0 ? x / 32768 : x / 32767); // toBitDepth stores it as a float32
      } else v = view.getFloat32(at, true);
      out[i] += v / channels;
    }
  }
  return out;
}

/** Larger WAVs are refused before reading: an hour of 16 kHz audio is 115 MB as 16-bit mono. */
export const MAX_WAV_BYTES = 2 ** 30;

/** A WAV file decoded (any rate, channels averaged), with the checks every reader shares. */
export function readWavFile(file: string): Audio {
  let bytes: Uint8Array;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_WAV_BYTES)
      throw new Error(
        `${file}: ${(size / 2 ** 20).toFixed(0)} MB, over the ${MAX_WAV_BYTES / 2 ** 20} MB read at once (hours of audio): cut it first`,
      );
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!code) throw e;
    throw new Error(`${file}: cannot read (${code === 'EISDIR' ? 'a folder, not a WAV file' : code})`);
  }
  const a = decodeWav(bytes, file);
  if (a.samples.length === 0) throw new Error(`${file}: no samples`);
  return a;
}

/** Reads a 16 kHz note; any other rate is refused (readWavResampled converts it). */
export function readWav16k(file: string): Float32Array {
  const a = readWavFile(file);
  if (a.sampleRate !== MODEL_RATE)
    throw new Error(
      `${file}: sample rate ${a.sampleRate} Hz, the model needs ${MODEL_RATE} Hz (the nsynth commands resample it; or sox IN -r ${MODEL_RATE} OUT)`,
    );
  return a.samples;
}

/** A note read for the model, and what was done to get it there (for the caller to say). */
export interface ResampledAudio {
  /** Mono at 16 kHz. */
  samples: Float32Array;
  /** The file's own rate and channel count. */
  sampleRate: number;
  channels: number;
  /** Whether the samples were resampled (the file was not 16 kHz) and mixed down (not mono). */
  resampled: boolean;
  mixedDown: boolean;
}

/** Reads a note at any rate: channels averaged to mono, then resampled to 16 kHz with libsamplerate. */
export async function readWavResampled(file: string, toRate = MODEL_RATE): Promise<ResampledAudio> {
  return toRate16k(readWavFile(file), file, toRate);
}

/** A WAV's bytes decoded as readWavResampled does (for a caller that has checked the bytes themselves). */
export async function decodeWavResampled(
  bytes: Uint8Array,
  file: string,
  toRate = MODEL_RATE,
): Promise<ResampledAudio> {
  const a = decodeWav(bytes, file);
  if (a.samples.length === 0) throw new Error(`${file}: no samples`);
  return toRate16k(a, file, toRate);
}

async function toRate16k(a: Audio, file: string, toRate: number): Promise<ResampledAudio> {
  const resampled = a.sampleRate !== toRate;
  let samples = a.samples;
  if (resampled) {
    try {
      samples = await resample(a.samples, a.sampleRate, toRate);
    } catch (e) {
      throw new Error(`${file}: cannot resample ${a.sampleRate} Hz to ${toRate} Hz (${(e as Error).message})`);
    }
    if (samples.length === 0) throw new Error(`${file}: no samples left at ${toRate} Hz`);
  }
  return { samples, sampleRate: a.sampleRate, channels: a.channels, resampled, mixedDown: a.channels > 1 };
}

export function writeWav(file: string, samples: Float32Array, sampleRate = MODEL_RATE, depth: WavDepth = '32f'): void {
  writeFileAtomic(file, encodeWav(samples, sampleRate, depth));
}
