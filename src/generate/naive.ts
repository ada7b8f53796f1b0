// The naive generator, as plain WaveNet samples: for every new sample, run the whole decoder over
// its receptive field again and sample the last step. Exact but O(receptive field) per sample: the
// correctness oracle for the fast generator and the baseline its speed-up is measured against.
import { decoderReceptiveField, type ModelConfig } from '../model/config.js';
import { type EmbeddingInput, embeddingVoices, type HostTensor, padVoices } from '../model/inputs.js';

import { MU_LAW_DECODE_TABLE } from '../ops/mu-law.js';
import { sampleCategorical, uniform01 } from '../ops/sample-categorical.js';

export interface NaiveOptions {
  seed?: number;
  temperature?: number;
  pitch?: number | number[];
  /** Generate only the first `steps` samples of each voice (the naive path is slow). */
  steps?: number;
}

/** What the naive generator needs of a model: its config and the teacher-forced decoder (an NSynthModel). */
export interface TeacherForcedDecoder {
  config: ModelConfig;
  teacherForcedLogits(
    audio: Float32Array[],
    embedding: HostTensor,
    o: { lengthPolicy: 'strict'; pitch?: number[] },
  ): Promise<HostTensor>;
}

export async function naiveGenerate(
  model: TeacherForcedDecoder,
  embedding: EmbeddingInput,
  o: NaiveOptions = {},
): Promise<{ audio: Float32Array[]; classes: Uint32Array[] }> {
  const c = model.config;
  const bn = c.bottleneck;
  const voices = embeddingVoices(embedding, bn);
  const B = voices.length;
  const { padded: emb, frames: F } = padVoices(voices, bn);
  const T = Math.min(o.steps ?? F * c.hop, F * c.hop);
  const audio = voices.map(() => new Float32Array(F * c.hop));
  const classes = voices.map(() => new Uint32Array(T));
  const rf = decoderReceptiveField(c);
  const pitches = o.pitch === undefined ? undefined : Array.isArray(o.pitch) ? o.pitch : Array(B).fill(o.pitch);
  for (let t = 0; t < T; t++) {
    // frame-aligned window holding t and its whole receptive field
    const w0 = Math.max(0, Math.floor((t - rf) / c.hop) * c.hop);
    const w1 = Math.ceil((t + 1) / c.hop) * c.hop;
    const logits = await model.teacherForcedLogits(
      audio.map((a) => a.subarray(w0, w1)),
      {
        data: concat(emb.map((e) => e.subarray((w0 / c.hop) * bn, (w1 / c.hop) * bn))),
        shape: [B, (w1 - w0) / c.hop, bn],
      },
      { lengthPolicy: 'strict', pitch: pitches },
    );
    const n = w1 - w0;
    for (let b = 0; b < B; b++) {
      const row = logits.data.subarray((b * n + (t - w0)) * 256, (b * n + (t - w0) + 1) * 256);
      const k = sampleCategorical(row, o.temperature ?? 1, uniform01(o.seed ?? 0, b, t));
      classes[b][t] = k;
      audio[b][t] = MU_LAW_DECODE_TABLE[k];
    }
  }
  return { audio: audio.map((a) => a.subarray(0, T)), classes };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
