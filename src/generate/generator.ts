// Generation for one model: embeddings in (any accepted form), voices batched and streamed out.
// The step-laid-out weights are packed on first use and kept while the generator lives.
import type { Engine } from '../gpu/engine.js';
import { conditioningInput, type EmbeddingInput, embeddingVoices, notePitches, padVoices } from '../model/inputs.js';
import type { Weights } from '../model/weights.js';
import { generateChunks, voicesInMemory } from './fast.js';
import { type GenWeights, packGenWeights } from './gen-weights.js';
import type { AudioChunk, GenerateOptions, GeneratorInternals, GeneratorResources } from './types.js';

export class Generator {
  private gen: GenWeights | null = null;

  constructor(
    readonly engine: Engine,
    readonly weights: Weights,
  ) {}

  /** The step loop's view of the model (its weights are packed and uploaded on first use). */
  resources(): GeneratorResources {
    this.gen ??= packGenWeights(this.engine, this.weights);
    return { engine: this.engine, config: this.weights.config, gen: this.gen };
  }

  /**
   * Audio chunks as they are generated: each chunk holds [start, end) of every voice. Voices of
   * different lengths are zero-padded to the longest (as Magenta's load_batch_encodings); break
   * out of the loop or abort the signal to stop, and every GPU buffer is freed.
   */
  stream(embedding: EmbeddingInput, o: GenerateOptions & GeneratorInternals = {}): AsyncGenerator<AudioChunk> {
    const c = this.weights.config;
    const voices = embeddingVoices(embedding, c.bottleneck);
    checkSeeds(o.seed, (o.voiceOffset ?? 0) + voices.length);
    const { padded, frames } = padVoices(voices, c.bottleneck);
    const cond = conditioningInput(c, padded, frames, notePitches(c, o.pitch, voices.length));
    return generateChunks(this.resources(), voices.length, frames, cond, o);
  }

  /**
   * Every voice whole: batch after batch of `o.batch` voices (default: all together), each voice
   * as long as its own embedding (frames * hop samples) and on its own random stream.
   */
  async generate(embedding: EmbeddingInput, o: GenerateOptions & GeneratorInternals = {}): Promise<Float32Array[]> {
    const c = this.weights.config;
    const bn = c.bottleneck;
    const voices = embeddingVoices(embedding, bn);
    checkSeeds(o.seed, (o.voiceOffset ?? 0) + voices.length);
    const lengths = voices.map((v) => (v.length / bn) * c.hop);
    const out = lengths.map((n) => new Float32Array(n));
    const asked = o.batch ?? voices.length;
    if (!Number.isInteger(asked) || asked < 1) throw new Error(`batch must be a positive integer, got ${asked}`);
    // Groups that fit the GPU memory budget (a voice's audio does not depend on its group).
    this.resources();
    const longest = Math.max(...voices.map((v) => v.length / bn));
    const fit = voicesInMemory(this.engine, c, longest, { teacher: !!o.teacher, recordLogits: !!o.recordLogits });
    const batch = Math.max(1, Math.min(asked, fit));
    const pitches = notePitches(c, o.pitch, voices.length);
    for (let v0 = 0; v0 < voices.length; v0 += batch) {
      const group = voices.slice(v0, v0 + batch).map((v) => ({ data: v, shape: [v.length / bn, bn] }));
      const opts = {
        ...o,
        pitch: pitches?.slice(v0, v0 + batch),
        teacher: o.teacher?.slice(v0, v0 + batch),
        voiceOffset: (o.voiceOffset ?? 0) + v0,
      };
      for await (const chunk of this.stream(group, opts)) {
        chunk.audio.forEach((a, j) => {
          const b = v0 + j;
          if (chunk.start < lengths[b])
            out[b].set(a.subarray(0, Math.min(a.length, lengths[b] - chunk.start)), chunk.start);
        });
      }
    }
    return out;
  }

  dispose(): void {
    this.gen?.release();
    this.gen = null;
  }
}

/** A seed is an integer in [0, 2^32); a seed per voice needs one for every voice. */
function checkSeeds(seed: number | number[] | undefined, voices: number): void {
  const seeds = Array.isArray(seed) ? seed : seed === undefined ? [] : [seed];
  if (Array.isArray(seed) && seed.length < voices)
    throw new Error(`seed: ${seed.length} seeds for ${voices} voices (give one per voice, or one number)`);
  const bad = seeds.find((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff);
  if (bad !== undefined) throw new Error(`seed ${bad} is not an integer in [0, 2^32)`);
}
