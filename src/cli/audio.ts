// Audio in and out for the commands: notes read at any rate (resampled to 16 kHz and mixed down,
// with a note on stderr saying so), a folder of notes as input, lengths fitted to whole frames
// (with a note when they were), and WAVs written as 16-bit PCM unless --float asks for 32-bit float.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option } from 'commander';
import { MODEL_RATE, readWavResampled, type ResampledAudio, type WavDepth } from '../formats/wav.js';
import { type LengthPolicy, refuseLength } from '../model/inputs.js';
import { notice } from './output.js';

/** What was done to a file to read it for the model, as one line; null when nothing was. */
export function conversionNote(file: string, a: ResampledAudio): string | null {
  if (!a.resampled && !a.mixedDown) return null;
  const layout = a.channels === 1 ? 'mono' : a.channels === 2 ? 'stereo' : `${a.channels} channels`;
  const done = [a.mixedDown ? 'mixed down' : '', a.resampled ? `resampled to ${MODEL_RATE} Hz` : 'to mono']
    .filter(Boolean)
    .join(a.resampled ? ' and ' : ' ');
  return `${path.basename(file)} is ${a.sampleRate} Hz ${layout}: ${done}`;
}

/** A note for the model: 16 kHz mono, whatever the file holds; a note on stderr says what was converted. */
export async function readNote(file: string): Promise<Float32Array> {
  const a = await readWavResampled(file);
  const note = conversionNote(file, a);
  if (note) notice(note);
  return a.samples;
}

/** Input notes: the file itself, or every .wav in a folder (sorted by name; Magenta's --source_path). */
export function listNotes(input: string): { files: string[]; folder: boolean } {
  let isFolder: boolean;
  try {
    isFolder = fs.statSync(input).isDirectory();
  } catch (e) {
    throw new Error(`${input}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!isFolder) return { files: [input], folder: false };
  const files = fs
    .readdirSync(input, { withFileTypes: true })
    .filter((d) => d.isFile() && /\.wav$/i.test(d.name))
    .map((d) => d.name)
    .sort()
    .map((name) => path.join(input, name));
  if (files.length === 0) throw new Error(`${input}: no .wav files in this folder`);
  return { files, folder: true };
}

/** `--out DIR/` (a trailing slash) or an existing folder: a single note's output goes inside it, named after the note. */
export function namesFolder(out: string): boolean {
  return /[/\\]$/.test(out) || (fs.existsSync(out) && fs.statSync(out).isDirectory());
}

/**
 * Where a folder of notes' outputs go: OUT_DIR/NOTE.EXT for each input (NOTE-i.EXT for `voices` > 1).
 * An output that would overwrite one of the inputs (--out the input folder itself) is refused.
 */
export function outputsInFolder(inputs: string[], outDir: string, ext: string, voices = 1): string[][] {
  if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory())
    throw new Error(`${outDir}: is a file; with a folder of notes as input, --out is a folder`);
  const taken = new Set(inputs.map((f) => path.resolve(f)));
  return inputs.map((input) => {
    const stem = path.basename(input).replace(/\.wav$/i, '');
    const names = voices === 1 ? [`${stem}${ext}`] : Array.from({ length: voices }, (_, i) => `${stem}-${i}${ext}`);
    return names.map((name) => {
      const file = path.join(outDir, name);
      if (taken.has(path.resolve(file)))
        throw new Error(`${file}: would overwrite the input; give another --out folder`);
      return file;
    });
  });
}

/** `--float`: 32-bit float WAVs instead of 16-bit PCM. */
export const floatOption = (): Option =>
  new Option('--float', 'write 32-bit float WAVs (exact; WAVE_FORMAT_EXTENSIBLE) instead of 16-bit PCM');

export function wavDepth(o: { float?: boolean }): WavDepth {
  return o.float ? '32f' : '16';
}

/**
 * The length a note of `samples` has once fitted to whole frames of `hop` samples, as the library
 * fits it (trim as Magenta, or pad), with a note on stderr when it changed.
 */
export function fitNoteLength(what: string, samples: number, hop: number, policy: LengthPolicy): number {
  const rem = samples % hop;
  // What the library would refuse (it knows the note only as "audio"), refused here with its file's name.
  refuseLength(samples, hop, policy, what);
  if (rem === 0) return samples;
  if (policy === 'trim') {
    notice(
      `${what}: ${samples} samples trimmed to ${samples - rem} (whole frames of ${hop}; --length-policy pad keeps them)`,
    );
    return samples - rem;
  }
  const padded = samples + hop - rem;
  notice(`${what}: ${samples} samples padded with silence to ${padded} (whole frames of ${hop})`);
  return padded;
}

/** Frames for `--seconds S`: the nearest whole number of frames (at least one), with a note when S is not one. */
export function framesForSeconds(seconds: number, sampleRate: number, hop: number): number {
  const exact = (seconds * sampleRate) / hop;
  const frames = Math.max(1, Math.round(exact));
  if (Math.abs(exact - frames) > 1e-9) {
    notice(
      `--seconds ${seconds} is ${+(seconds * sampleRate).toFixed(2)} samples: rounded to ${frames} frame${frames === 1 ? '' : 's'} of ${hop}, ` +
        `${frames * hop} samples (${+((frames * hop) / sampleRate).toFixed(4)} s)`,
    );
  }
  return frames;
}

/** The input as an argument or as --input (Magenta's --source_path habit), never both. */
export function inputOf(argument: string | undefined, option: string | undefined): string {
  if (argument !== undefined && option !== undefined)
    throw new Error(`give the input once: ${argument} as an argument or --input ${option}, not both`);
  const input = argument ?? option;
  if (input === undefined) throw new Error('give a WAV file or a folder of them (as an argument or --input)');
  return input;
}
