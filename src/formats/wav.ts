// WAV in and out through `wavefile`: any PCM or float WAV in, 16 kHz required, channels averaged to
// mono; float32 WAV out (as Magenta's fastgen writes). Errors name the file.
import * as fs from 'node:fs';
import wavefilePkg from 'wavefile';
import { writeFileAtomic } from './atomic-write.js';

const { WaveFile } = wavefilePkg as unknown as { WaveFile: typeof import('wavefile').WaveFile };

export interface Audio {
  samples: Float32Array;
  sampleRate: number;
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
  if (fast) return { samples: fast, sampleRate };
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
  return { samples, sampleRate };
}

/**
 * 16-bit PCM and 32-bit float, the formats of NSynth and of our own outputs, decoded directly from the
 * data chunk: wavefile's generic toBitDepth takes ~250 ms per 4 s note (reading NSynth's 900 training
 * notes took 4 minutes), this ~1 ms. The values are exactly toBitDepth's (int16 over 32768 below
 * zero, over 32767 above; channels averaged in float32 as below). Null for other formats.
 */
function fastSamples(wav: InstanceType<typeof WaveFile>, channels: number): Float32Array | null {
  const data = (wav.data as { samples?: Uint8Array }).samples;
  const fmt = wav.fmt as { audioFormat: number };
  const pcm16 = wav.bitDepth === '16' && fmt.audioFormat === 1;
  const f32 = wav.bitDepth === '32f' && fmt.audioFormat === 3;
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

/** Reads a note for the model: 16 kHz required (resample elsewhere; we never do it silently). */
/** Larger WAVs are refused before reading: an hour of 16 kHz audio is 115 MB as 16-bit mono. */
export const MAX_WAV_BYTES = 2 ** 30;

export function readWav16k(file: string): Float32Array {
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
    throw new Error(`${file}: cannot read (${code})`);
  }
  const a = decodeWav(bytes, file);
  if (a.sampleRate !== 16000)
    throw new Error(
      `${file}: sample rate ${a.sampleRate} Hz, the model needs 16000 Hz (resample it first, e.g. sox IN -r 16000 OUT)`,
    );
  if (a.samples.length === 0) throw new Error(`${file}: no samples`);
  return a.samples;
}

/** A mono WAV: 32-bit float (default, exact) or 16-bit PCM (half the size; clipped to [-1, 1]). */
export function encodeWav(samples: Float32Array, sampleRate = 16000, depth: '32f' | '16' = '32f'): Uint8Array {
  const wav = new WaveFile();
  if (depth === '16')
    wav.fromScratch(
      1,
      sampleRate,
      '16',
      Int16Array.from(samples, (v) => Math.round(Math.max(-1, Math.min(1, v)) * 32767)),
    );
  else wav.fromScratch(1, sampleRate, '32f', Float64Array.from(samples));
  return wav.toBuffer();
}

export function writeWav(file: string, samples: Float32Array, sampleRate = 16000): void {
  writeFileAtomic(file, encodeWav(samples, sampleRate));
}
