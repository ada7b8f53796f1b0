// The fast generator against the full-sequence decoder (teacher forcing), its sampling, seeds,
// batching and cancellation.
import { describe, it, expect } from 'vitest';
import { testEngine, expectClose, rng } from './helpers.js';
import { modelFromWeights } from '../src/api.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { muLawQuantizeArray } from '../src/ops/mulaw.js';
import type { AudioChunk } from '../src/generate/fast.js';
import { sampleCategorical, uniform01 } from '../src/generate/sampling.js';

function note(seed: number, n: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, (_, t) => 0.5 * Math.sin(t / (4 + seed)) * Math.exp(-t / 3000) + 0.05 * r.uniform(-1, 1));
}

/**
 * Two samplers fed the same softmax and the same RNG draw the same classes; they may only part
 * where the draw sits on a CDF boundary within float rounding, which re-sampling the logits of
 * that step with the draw nudged by 1e-5 shows.
 */
function expectSameDraws(a: ArrayLike<number>, b: ArrayLike<number>, logitsA: Float32Array, seed: number, voice: number, steps: number): void {
  let t = 0;
  while (t < steps && a[t] === b[t]) t++;
  if (t === steps) return;
  const row = logitsA.subarray(t * 256, (t + 1) * 256);
  const u = uniform01(seed, voice, t);
  const near = [u * (1 - 1e-5), u * (1 + 1e-5)].map((x) => sampleCategorical(row, 1, x));
  expect(near[0], `voice ${voice} parted at step ${t} without a near-tie`).not.toBe(near[1]);
}

async function collect(it: AsyncIterable<AudioChunk>): Promise<AudioChunk[]> {
  const out: AudioChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

describe('fast generator, teacher-forced, equals the full-sequence decoder', () => {
  for (const path of ['layered', 'voice-loop'] as const) it(`tiny, ${path} path, 2 voices of different notes, every step within 1e-4`, async () => {
    const e = await testEngine();
    const w = initWeights(getConfig('tiny'), 41, { biasScale: 0.1 });
    const model = await modelFromWeights(e, w);
    const T = 1024;
    const notes = [note(1, T), note(2, T)];
    const emb = await model.encode(notes);
    const full = await model.teacherForcedLogits(notes, emb);
    const teacher = notes.map((n) => muLawQuantizeArray(n).classes);
    const chunks = await collect(model.stream(emb, { teacher, recordLogits: true, chunkSize: 300, firstChunkSize: 100, path }));
    expect(chunks.map((c) => [c.start, c.end])).toEqual([[0, 100], [100, 400], [400, 700], [700, 1000], [1000, 1024]]);
    for (let b = 0; b < 2; b++) {
      const got = new Float32Array(T * 256);
      for (const c of chunks) got.set(c.logits![b], c.start * 256);
      expectClose(got, full.data.subarray(b * T * 256, (b + 1) * T * 256), 1e-4, 1e-4, `voice ${b} logits`);
    }
    model.dispose();
  });

  it('both paths sample the same audio with the same seed', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 45, { biasScale: 0.1 }));
    const emb = await model.encode([note(7, 1024), note(8, 1024), note(9, 1024)]);
    const a = await collect(model.stream(emb, { seed: 5, path: 'layered', recordLogits: true, firstChunkSize: 1024 }));
    const b = await collect(model.stream(emb, { seed: 5, path: 'voice-loop', firstChunkSize: 1024 }));
    for (let v = 0; v < 3; v++) expectSameDraws(a[0].classes[v], b[0].classes[v], a[0].logits![v], 5, v, 1024);
    model.dispose();
  });
});

describe('batches larger than one binding', () => {
  it('voices split into lock-stepped instances give the same audio as one instance', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 46, { biasScale: 0.1 }));
    const emb = await model.encode([note(10, 1024), note(11, 1024), note(12, 1024), note(13, 1024), note(14, 1024)]);
    const whole = (await model.generate(emb, { seed: 9, path: 'layered' })) as Float32Array[];
    const split = (await model.generate(emb, { seed: 9, path: 'layered', maxVoicesPerInstance: 2 })) as Float32Array[];
    expect(split).toEqual(whole);
    // the batch option runs the voices two at a time, each keeping its own random stream
    const batched = (await model.generate(emb, { seed: 9, path: 'layered', batch: 2 })) as Float32Array[];
    expect(batched).toEqual(whole);
    model.dispose();
  });
});

describe('sampling', () => {
  it('same seed gives the same audio, another seed other audio; temperature 0 is argmax', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 42, { biasScale: 0.1 }));
    const emb = await model.encode(note(3, 1024));
    const a = (await model.generate(emb, { seed: 7 })) as Float32Array;
    const b = (await model.generate(emb, { seed: 7 })) as Float32Array;
    const c = (await model.generate(emb, { seed: 8 })) as Float32Array;
    expect(a.length).toBe(1024);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // argmax: sampled class equals the argmax of the recorded logits at every step
    const chunks = await collect(model.stream(emb, { temperature: 0, recordLogits: true }));
    for (const ch of chunks) {
      const L = ch.logits![0];
      for (let i = 0; i < ch.end - ch.start; i++) {
        let best = 0;
        for (let k = 1; k < 256; k++) if (L[i * 256 + k] > L[i * 256 + best]) best = k;
        expect(ch.classes[0][i]).toBe(best);
      }
    }
    model.dispose();
  });
});

describe('resources', () => {
  it('a cancelled stream frees its buffers; bad embeddings are refused before GPU work', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 43));
    const emb = await model.encode(note(4, 2048));
    model.generatorResources(); // the model's own step-laid-out weights stay while the model lives
    const before = e.pool.stats().live;
    const ac = new AbortController();
    const seen: number[] = [];
    await expect((async () => {
      for await (const c of model.stream(emb, { signal: ac.signal, chunkSize: 256 })) {
        seen.push(c.end);
        ac.abort();
      }
    })()).rejects.toThrow(/cancelled/);
    expect(seen).toEqual([256]); // the first chunk is never longer than chunkSize
    expect(e.pool.stats().live).toBe(before);
    // breaking out of the loop frees them too
    for await (const c of model.stream(emb)) { void c; break; }
    expect(e.pool.stats().live).toBe(before);
    await expect(model.generate({ data: new Float32Array(8 * 3), shape: [3, 8] })).rejects.toThrow(/should be \[frames, 16\]/);
    await expect(model.generate({ data: new Float32Array(0), shape: [0, 16] })).rejects.toThrow(/zero frames/);
    const nan = new Float32Array(32); nan[3] = NaN;
    await expect(model.generate(nan)).rejects.toThrow(/value 3 is NaN/);
    expect(e.pool.stats().live).toBe(before);
    model.dispose();
  });
});

describe('naive generator (the oracle)', () => {
  it('samples the same audio as the fast generator with the same seed', async () => {
    const { naiveGenerate } = await import('../src/generate/naive.js');
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 44, { biasScale: 0.1 }));
    const emb = await model.encode([note(5, 1024), note(6, 1024)]);
    const steps = 150;
    const naive = await naiveGenerate(model, emb, { seed: 3, steps });
    const chunks = await collect(model.stream(emb, { seed: 3, recordLogits: true }));
    for (let b = 0; b < 2; b++) {
      expectSameDraws(chunks[0].classes[b], naive.classes[b], chunks[0].logits![b], 3, b, steps);
      expect(naive.audio[b].length).toBe(steps);
    }
    model.dispose();
  });
});
