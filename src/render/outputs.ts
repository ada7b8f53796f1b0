// What `nsynth render` writes per job and how a re-run knows it is done: the audio at
// DIR/<id[0:2]>/<id>.wav beside a sidecar <id>.json holding the job, the WAV's size and SHA-256.
// The id is a hash of everything the audio depends on (the model's checksum, the inputs' bytes,
// mix, pitch, seed, length, temperature, sample format), so equal jobs share one file and two
// different jobs never meet. An output counts as done only when its sidecar parses, names the id,
// and the WAV has the recorded size, a 16 kHz header and the recorded hash; anything else is
// rendered again. Both files are written atomically, the WAV first, so a crash leaves at most a
// WAV without its sidecar (not done).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFilesAtomic } from '../formats/atomic-write.js';
import { decodeWav, encodeWav, MODEL_RATE, type WavDepth } from '../formats/wav.js';

/** Bump when the same job would render other bytes (a change to what the id covers or to the WAV writer). */
export const RENDER_FORMAT = 1;

export interface JobIdentity {
  model: string;
  inputs: { kind: 'note' | 'embedding'; sha256: string }[];
  mix: number[];
  /** The pitch the model is conditioned on (null for a model without pitch). */
  pitch: number | null;
  seed: number;
  seconds: number | null;
  temperature: number;
  depth: WavDepth;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** 128 bits of the SHA-256 of the identity's canonical JSON (fixed key order). */
export function jobId(j: JobIdentity): string {
  const canonical = JSON.stringify([
    RENDER_FORMAT,
    j.model,
    j.inputs.map((i) => [i.kind, i.sha256]),
    j.mix,
    j.pitch,
    j.seed,
    j.seconds,
    j.temperature,
    j.depth,
  ]);
  return sha256(canonical).slice(0, 32);
}

export function outputPaths(outDir: string, id: string): { wav: string; sidecar: string } {
  const dir = path.join(outDir, id.slice(0, 2));
  return { wav: path.join(dir, `${id}.wav`), sidecar: path.join(dir, `${id}.json`) };
}

export interface Sidecar {
  id: string;
  format: number;
  wav: { file: string; bytes: number; sha256: string; samples: number; sampleRate: number };
  job: Record<string, unknown>;
  identity: JobIdentity;
  /** The adapter and kernels that made it (the same job on another adapter may differ in rounding). */
  madeWith: { adapter: string; path: string };
}

export type OutputState = 'done' | 'missing' | 'corrupt';

/** Whether the output of `id` is complete and intact; `why` says what is wrong with a corrupt one. */
export function checkOutput(outDir: string, id: string): { state: OutputState; why?: string } {
  const { wav, sidecar } = outputPaths(outDir, id);
  if (!fs.existsSync(sidecar)) return { state: fs.existsSync(wav) ? 'corrupt' : 'missing', why: 'no sidecar' };
  let meta: Sidecar;
  try {
    meta = JSON.parse(fs.readFileSync(sidecar, 'utf8')) as Sidecar;
  } catch (e) {
    return { state: 'corrupt', why: `sidecar unreadable (${(e as Error).message})` };
  }
  if (meta?.id !== id || meta.format !== RENDER_FORMAT || !meta.wav)
    return { state: 'corrupt', why: 'sidecar of another job' };
  let bytes: Uint8Array;
  try {
    const size = fs.statSync(wav).size;
    if (size !== meta.wav.bytes)
      return { state: 'corrupt', why: `WAV is ${size} bytes, sidecar says ${meta.wav.bytes}` };
    bytes = fs.readFileSync(wav);
  } catch {
    return { state: 'corrupt', why: 'WAV missing' };
  }
  if (sha256(bytes) !== meta.wav.sha256) return { state: 'corrupt', why: 'WAV checksum differs from the sidecar' };
  try {
    const a = decodeWav(bytes, wav);
    if (a.sampleRate !== MODEL_RATE || a.samples.length !== meta.wav.samples)
      return { state: 'corrupt', why: 'WAV header disagrees with the sidecar' };
  } catch (e) {
    return { state: 'corrupt', why: (e as Error).message };
  }
  return { state: 'done' };
}

/** Writes one job's WAV, then its sidecar (both atomic, in that order). */
export function writeOutput(
  outDir: string,
  id: string,
  audio: Float32Array,
  o: { job: Record<string, unknown>; identity: JobIdentity; madeWith: Sidecar['madeWith'] },
): { wav: string; bytes: number } {
  const { wav, sidecar } = outputPaths(outDir, id);
  fs.mkdirSync(path.dirname(wav), { recursive: true });
  const bytes = encodeWav(audio, MODEL_RATE, o.identity.depth);
  const meta: Sidecar = {
    id,
    format: RENDER_FORMAT,
    wav: {
      file: path.basename(wav),
      bytes: bytes.byteLength,
      sha256: sha256(bytes),
      samples: audio.length,
      sampleRate: MODEL_RATE,
    },
    job: o.job,
    identity: o.identity,
    madeWith: o.madeWith,
  };
  // Shards on other machines may write the same output (equal jobs on two shards): same bytes,
  // their own temporaries, the last rename wins.
  writeFilesAtomic(
    [
      { file: wav, data: bytes },
      { file: sidecar, data: `${JSON.stringify(meta, null, 1)}\n` },
    ],
    { shared: true },
  );
  return { wav, bytes: bytes.byteLength };
}
