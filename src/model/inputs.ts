// Checking and shaping what users pass in: audio (16 kHz mono floats in [-1, 1]) and embeddings.
import { conditioningWidth, PITCH_CLASSES, type ModelConfig } from './config.js';
export type LengthPolicy = 'trim' | 'pad' | 'strict';

export interface HostTensor {
  data: Float32Array;
  shape: number[];
}

/** An embedding: [frames, 16], [batch, frames, 16], or one per voice (lengths may differ). */
export type EmbeddingInput = HostTensor | Float32Array | (HostTensor | Float32Array)[];

/** Throws if a note of `samples` cannot be fitted to whole frames of `hop` under `policy` (fitLength's refusals). */
export function refuseLength(samples: number, hop: number, policy: LengthPolicy, what = 'audio'): void {
  if (policy === 'strict' && (samples % hop !== 0 || samples === 0))
    throw new Error(
      `${what}: length ${samples} is not a positive multiple of ${hop} samples (the trim or pad length policy fits it)`,
    );
  if (policy === 'trim' && samples < hop)
    throw new Error(
      `${what}: ${samples} samples is shorter than one ${hop}-sample frame (the pad length policy pads it to one)`,
    );
}

/** Fits a note to a multiple of `hop`: trim (Magenta's trim_for_encoding), zero-pad, or refuse. */
export function fitLength(audio: Float32Array, hop: number, policy: LengthPolicy, what = 'audio'): Float32Array {
  if (!(audio instanceof Float32Array)) throw new Error(`${what} must be a Float32Array of 16 kHz mono samples`);
  for (let i = 0; i < audio.length; i++) {
    if (!Number.isFinite(audio[i])) throw new Error(`${what}: sample ${i} is ${audio[i]}`);
  }
  const rem = audio.length % hop;
  if (rem === 0 && audio.length > 0) return audio;
  refuseLength(audio.length, hop, policy, what);
  if (policy === 'trim') return audio.subarray(0, audio.length - rem);
  const out = new Float32Array(Math.max(hop, audio.length + (rem ? hop - rem : 0)));
  out.set(audio);
  return out;
}

/** Accepts [F, C], [B, F, C] or a flat Float32Array of F*C values; returns per-note arrays. */
export function splitEmbedding(e: HostTensor | Float32Array, channels: number, what = 'embedding'): Float32Array[] {
  const t: HostTensor = e instanceof Float32Array ? { data: e, shape: [e.length / channels, channels] } : e;
  if (!(t.data instanceof Float32Array)) throw new Error(`${what}: data must be a Float32Array`);
  const shape = t.shape;
  const last = shape[shape.length - 1];
  if (last !== channels || !(shape.length === 2 || shape.length === 3) || !Number.isInteger(shape[shape.length - 2])) {
    throw new Error(`${what}: shape [${shape}] should be [frames, ${channels}] or [batch, frames, ${channels}]`);
  }
  const B = shape.length === 3 ? shape[0] : 1;
  const F = shape[shape.length - 2];
  if (F < 1) throw new Error(`${what}: zero frames`);
  if (t.data.length !== B * F * channels)
    throw new Error(`${what}: ${t.data.length} values do not fill shape [${shape}]`);
  for (let i = 0; i < t.data.length; i++)
    if (!Number.isFinite(t.data[i])) throw new Error(`${what}: value ${i} is ${t.data[i]}`);
  return Array.from({ length: B }, (_, b) => t.data.subarray(b * F * channels, (b + 1) * F * channels));
}

/** Per-voice embeddings from a tensor, a flat array or a list of either; empty input is refused. */
export function embeddingVoices(e: EmbeddingInput, channels: number): Float32Array[] {
  const list = Array.isArray(e)
    ? e.flatMap((x, i) => splitEmbedding(x, channels, `embedding[${i}]`))
    : splitEmbedding(e, channels);
  if (list.length === 0) throw new Error('no embedding given');
  return list;
}

/** Voices zero-padded to the longest (as Magenta's load_batch_encodings); returns them and the frame count. */
export function padVoices(voices: Float32Array[], channels: number): { padded: Float32Array[]; frames: number } {
  const frames = Math.max(...voices.map((v) => v.length / channels));
  const padded = voices.map((v) => {
    if (v.length === frames * channels) return v;
    const p = new Float32Array(frames * channels);
    p.set(v);
    return p;
  });
  return { padded, frames };
}

/** One MIDI pitch per note for a pitch-conditioned config (checked), undefined for others. */
export function notePitches(c: ModelConfig, pitch: number | number[] | undefined, B: number): number[] | undefined {
  if (!c.pitchConditioning) return undefined;
  const pitches =
    pitch === undefined ? undefined : Array.isArray(pitch) ? pitch : B === 1 ? [pitch] : Array(B).fill(pitch);
  if (!pitches || pitches.length !== B)
    throw new Error(
      `config ${c.name} is pitch-conditioned: pass { pitch: MIDI } (a MIDI note number, or one per note: ` +
        `${B} here${pitches ? `, got ${pitches.length}` : ''})`,
    );
  for (const p of pitches)
    if (!Number.isInteger(p) || p < 0 || p >= PITCH_CLASSES)
      throw new Error(`pitch ${p} is not a MIDI note number 0..127`);
  return pitches;
}

/** [B, F, E]: every voice's embedding with its one-hot pitch appended where the config asks for one. */
export function conditioningInput(
  c: ModelConfig,
  voices: Float32Array[],
  F: number,
  pitches: number[] | undefined,
): Float32Array {
  const E = conditioningWidth(c);
  const B = voices.length;
  const out = new Float32Array(B * F * E);
  for (let b = 0; b < B; b++) {
    for (let f = 0; f < F; f++) {
      out.set(voices[b].subarray(f * c.bottleneck, (f + 1) * c.bottleneck), (b * F + f) * E);
      if (pitches) out[(b * F + f) * E + c.bottleneck + pitches[b]] = 1;
    }
  }
  return out;
}

/**
 * The pitch an octave away (up, or down above MIDI 115), inside 0..127: what a model's use of its
 * pitch input is measured against (eval's pitchUseBits, training's evalPitchUse).
 */
export function octaveAway(pitch: number): number {
  return pitch + 12 <= 127 ? pitch + 12 : pitch - 12;
}
