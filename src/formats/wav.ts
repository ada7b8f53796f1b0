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
  if (!numChannels || !sampleRate) throw new Error(`${where}: WAV has no format chunk`);
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

/** Reads a note for the model: 16 kHz required (resample elsewhere; we never do it silently). */
export function readWav16k(file: string): Float32Array {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const a = decodeWav(bytes, file);
  if (a.sampleRate !== 16000)
    throw new Error(
      `${file}: sample rate ${a.sampleRate} Hz, the model needs 16000 Hz (resample it first, e.g. sox IN -r 16000 OUT)`,
    );
  if (a.samples.length === 0) throw new Error(`${file}: no samples`);
  return a.samples;
}

export function encodeWav(samples: Float32Array, sampleRate = 16000): Uint8Array {
  const wav = new WaveFile();
  wav.fromScratch(1, sampleRate, '32f', Float64Array.from(samples));
  return wav.toBuffer();
}

export function writeWav(file: string, samples: Float32Array, sampleRate = 16000): void {
  writeFileAtomic(file, encodeWav(samples, sampleRate));
}
