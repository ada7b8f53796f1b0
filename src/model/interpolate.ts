// Interpolation in the embedding space, NSynth's timbre morph: z = (1 - mix) z_a + mix z_b frame by
// frame (mix 0 is a, mix 1 is b), beside the plain waveform mix it is compared with. Notes of
// different lengths meet over the shorter one (an embedding frame of silence is not zeros, so
// padding would add a sound of its own).
import type { HostTensor } from './inputs.js';

function checkMix(mix: number): void {
  if (!Number.isFinite(mix)) throw new Error(`mix must be a finite number, got ${mix}`);
}

/** Frame-by-frame linear interpolation of two embeddings [frames, channels] over the shorter one's frames. */
export function interpolateEmbeddings(a: HostTensor, b: HostTensor, mix: number): HostTensor {
  checkMix(mix);
  // From JavaScript a bare Float32Array gets here too: say what is wanted rather than fail on .shape.
  if (!Array.isArray(a?.shape) || !Array.isArray(b?.shape))
    throw new Error(
      'interpolateEmbeddings: give two embeddings as { data, shape: [frames, channels] } (what model.encode returns for one note)',
    );
  const ca = a.shape[a.shape.length - 1];
  const cb = b.shape[b.shape.length - 1];
  if (a.shape.length !== 2 || b.shape.length !== 2 || ca !== cb)
    throw new Error(
      `interpolateEmbeddings: embeddings must both be [frames, channels], got [${a.shape}] and [${b.shape}]`,
    );
  const frames = Math.min(a.shape[0], b.shape[0]);
  const data = new Float32Array(frames * ca);
  for (let i = 0; i < data.length; i++) data[i] = (1 - mix) * a.data[i] + mix * b.data[i];
  return { data, shape: [frames, ca] };
}

/** The waveform mix (1 - mix) a + mix b over the shorter note: what embedding interpolation is compared with. */
export function mixWaveforms(a: Float32Array, b: Float32Array, mix: number): Float32Array {
  checkMix(mix);
  const n = Math.min(a.length, b.length);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (1 - mix) * a[i] + mix * b[i];
  return out;
}

/**
 * The weighted sum of several embeddings [frames, channels] over the shortest one's frames: a point
 * of a grid between instruments (weights summing to 1, as Open NSynth Super's bilinear corners).
 */
export function mixEmbeddings(embeddings: HostTensor[], weights: number[]): HostTensor {
  if (embeddings.length === 0 || embeddings.length !== weights.length)
    throw new Error(`mixEmbeddings: ${embeddings.length} embeddings and ${weights.length} weights`);
  weights.forEach(checkMix);
  if (!embeddings.every((e) => Array.isArray(e?.shape)))
    throw new Error(
      'mixEmbeddings: give embeddings as { data, shape: [frames, channels] } (what model.encode returns)',
    );
  const ch = embeddings[0].shape[1];
  for (const e of embeddings)
    if (e.shape.length !== 2 || e.shape[1] !== ch)
      throw new Error(`mixEmbeddings: embeddings must all be [frames, ${ch}], got [${e.shape}]`);
  const frames = Math.min(...embeddings.map((e) => e.shape[0]));
  const data = new Float32Array(frames * ch);
  embeddings.forEach((e, k) => {
    for (let i = 0; i < data.length; i++) data[i] += weights[k] * e.data[i];
  });
  return { data, shape: [frames, ch] };
}
