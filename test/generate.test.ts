// The fast generator's batching, sampling, seeds and cancellation, and the naive generator (the step
// kernels themselves are tested against the decoder in ops/gen-step.test.ts).
import { describe, it, expect } from 'vitest';
import { testEngine } from './helpers.js';
import { type EmbeddingBatch, modelFromWeights } from '../src/nsynth.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { lanesSupported } from '../src/gpu/lanes.js';
import { collect, expectSameDraws, note } from './generate-helpers.js';
import { layerGroups, maxVoicesPerInstance } from '../src/generate/instance.js';
import { withKernels } from './ops/gen-lanes-helpers.js';
import { decoderLayers, dilation } from '../src/model/config.js';

describe('batches larger than one binding', () => {
  it('voices split into lock-stepped instances give the same audio as one instance', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 46, { biasScale: 0.1 }));
    const emb = await model.encode([note(10, 1024), note(11, 1024), note(12, 1024), note(13, 1024), note(14, 1024)]);
    const whole = await model.generate(emb, { seed: 9, path: 'layered' });
    const split = await model.generate(emb, { seed: 9, path: 'layered', maxVoicesPerInstance: 2 });
    expect(split).toEqual(whole);
    // the batch option runs the voices two at a time, each keeping its own random stream
    const batched = await model.generate(emb, { seed: 9, path: 'layered', batch: 2 });
    expect(batched).toEqual(whole);
    model.dispose();
  });
});

describe('layers split into groups where one binding cannot hold them', () => {
  it('h512_bo16 at batch 32 on a 128 MiB binding: one instance of groups, each within the limit, covering every layer', () => {
    const c = getConfig('h512_bo16');
    const limit = 128 * 1024 * 1024;
    const frames = 125; // 4 s
    const { residual: R, skip: S } = c.decoder;
    // the whole model in one binding: its 15.5 MB of conditioning a voice allows 8 voices; in groups,
    // the largest layer (a 2 MiB ring at dilation 512) allows 64
    expect(maxVoicesPerInstance(c, frames, limit, false, true)).toBe(8);
    expect(maxVoicesPerInstance(c, frames, limit)).toBe(64);
    const groups = layerGroups(c, 32, frames, limit);
    expect(groups.length).toBeGreaterThan(1);
    let next = 0;
    for (const [g, { first, count }] of groups.entries()) {
      expect(first).toBe(next);
      next += count;
      let rows = 0;
      for (let i = first + 1; i <= first + count; i++) rows += 2 * dilation(i, c.decoder.layersPerStage);
      expect(32 * rows * R * 4).toBeLessThanOrEqual(limit);
      const condCols = count * 2 * R + (g === groups.length - 1 ? S : 0);
      expect(32 * frames * condCols * 4).toBeLessThanOrEqual(limit);
    }
    expect(next).toBe(decoderLayers(c));
    // where everything fits, one group; the voice loops always one
    expect(layerGroups(c, 4, frames, limit)).toEqual([{ first: 0, count: 30 }]);
    expect(layerGroups(c, 32, frames, limit, true)).toEqual([{ first: 0, count: 30 }]);
    // a narrow model's rings and conditioning are small, and its classes (4 bytes a sample, bound
    // whole) set the cap: h32_pitch, 4 s, 256,000 bytes a voice
    expect(maxVoicesPerInstance(getConfig('h32_pitch'), frames, limit)).toBe(Math.floor(limit / (frames * 512 * 4)));
  });

  it('the same audio, on the layered and the fused path, as with every layer in one binding', async () => {
    const e = await testEngine();
    const c = getConfig('tiny');
    const model = await modelFromWeights(e, initWeights(c, 48, { biasScale: 0.1 }));
    const emb = await model.encode([note(30, 1024), note(31, 1024), note(32, 1024), note(33, 1024), note(34, 1024)]);
    // 24 KB: tiny's 5 voices split into 4 groups of layers (its dilation-16 ring alone is 20 KB for 5)
    const maxBindingBytes = 24 * 1024;
    expect(layerGroups(c, 5, 2, maxBindingBytes).length).toBe(4);
    // the layered path with both of its step-start kernels (src/gpu/lanes.ts), and the fused path
    const runs = [
      ['layered', 'tiles', 'f32'],
      ['layered', 'tiles', 'f16'],
      ['layered', 'lanes', 'f32'],
      ['layered', 'lanes', 'f16'],
      ['fused', null, 'f32'],
    ] as const;
    for (const [path, kernels, weightStorage] of runs) {
      if (kernels === 'lanes' && !lanesSupported(e)) continue;
      const o = { seed: 9, path, weightStorage };
      const whole = await withKernels(kernels, () => model.generate(emb, o));
      const split = await withKernels(kernels, () => model.generate(emb, { ...o, maxBindingBytes }));
      expect(split).toEqual(whole);
      // and with the voices split into instances as well
      const both = await withKernels(kernels, () =>
        model.generate(emb, { ...o, maxBindingBytes, maxVoicesPerInstance: 2 }),
      );
      expect(both).toEqual(whole);
    }
    model.dispose();
  });
});

describe('sampling', () => {
  it('same seed gives the same audio, another seed other audio; temperature 0 is argmax', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 42, { biasScale: 0.1 }));
    const emb = await model.encode(note(3, 1024));
    const a = await model.generate(emb, { seed: 7 });
    const b = await model.generate(emb, { seed: 7 });
    const c = await model.generate(emb, { seed: 8 });
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

describe('determinism', () => {
  it("a voice's audio depends on its seed and index only: not on chunk sizes, submit sizes or its batch-mates", async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 47, { biasScale: 0.1 }));
    const [a, b, c] = await Promise.all([note(20, 1024), note(21, 1024), note(22, 1024)].map((n) => model.encode(n)));
    const pair = (x: typeof a, y: typeof a): EmbeddingBatch => ({
      data: Float32Array.of(...x.data, ...y.data),
      shape: [2, x.shape[0], x.shape[1]],
    });
    const paths = ['layered', 'voice-loop', ...(lanesSupported(e) ? (['voice-lanes'] as const) : [])] as const;
    for (const path of paths) {
      const ab = await model.generate(pair(a, b), { seed: 3, path });
      const ac = await model.generate(pair(a, c), { seed: 3, path });
      expect(ac[0], `${path}: voice 0 beside another voice 1`).toEqual(ab[0]);
      const chunked = await model.generate(pair(a, b), {
        seed: 3,
        path,
        chunkSize: 100,
        firstChunkSize: 7,
        stepsPerSubmit: 5,
      });
      expect(chunked, `${path}: other chunk and submit sizes`).toEqual(ab);
    }
    // Two generations at once on one engine give what each gives alone.
    const [x, y] = await Promise.all([
      model.generate(a, { seed: 1, chunkSize: 256 }),
      model.generate(b, { seed: 2, chunkSize: 300 }),
    ]);
    expect(x).toEqual(await model.generate(a, { seed: 1 }));
    expect(y).toEqual(await model.generate(b, { seed: 2 }));
    model.dispose();
  });
});

describe('a seed per voice', () => {
  it('voice v draws what a lone voice with seed[v] draws, in any batch, on every path; bad seeds are refused', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 48, { biasScale: 0.1 }));
    const embs = await Promise.all([note(30, 1024), note(31, 1024), note(32, 1024)].map((n) => model.encode(n)));
    const seeds = [11, 5, 11];
    const paths = ['layered', 'voice-loop', 'fused', ...(lanesSupported(e) ? (['voice-lanes'] as const) : [])] as const;
    for (const path of paths) {
      const alone = await Promise.all(embs.map((x, v) => model.generate(x, { seed: seeds[v], path })));
      const together = await model.generate(embs, { seed: seeds, path });
      expect(together, `${path}: three voices, one seed each`).toEqual(alone);
      // two at a time (the second batch's voice 0 is voice 2 and keeps seed[2])
      expect(await model.generate(embs, { seed: seeds, path, batch: 2 }), `${path}: batch 2`).toEqual(alone);
    }
    // the same seed on the same embedding is the same audio whatever the voice's place
    const same = await model.generate([embs[0], embs[0]], { seed: [4, 4] });
    expect(same[1]).toEqual(same[0]);
    await expect(model.generate(embs, { seed: [1, 2] })).rejects.toThrow(/2 seeds for 3 voices/);
    await expect(model.generate(embs[0], { seed: -1 })).rejects.toThrow(/not an integer in \[0, 2\^32\)/);
    await expect(model.generate(embs[0], { seed: [0.5] })).rejects.toThrow(/0.5 is not an integer/);
    model.dispose();
  });
});

describe('cancelling', () => {
  it('stops after the submit in progress, not at the end of the chunk: progress comes per submit', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny'), 44));
    const emb = await model.encode(note(6, 4096));
    const ac = new AbortController();
    const progress: number[] = [];
    const run = model.generate(emb, {
      path: 'layered',
      chunkSize: 4096,
      firstChunkSize: 4096,
      stepsPerSubmit: 16,
      signal: ac.signal,
      onProgress: (p) => {
        progress.push(p.done);
        ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    // One chunk of 4096 steps, submitted 16 at a time: the first submit reports, the abort lands,
    // and the next finished submit stops the run.
    expect(progress).toEqual([16]);
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
    await expect(
      (async () => {
        for await (const c of model.stream(emb, { signal: ac.signal, chunkSize: 256 })) {
          seen.push(c.end);
          ac.abort();
        }
      })(),
    ).rejects.toThrow(/cancelled/);
    expect(seen).toEqual([256]); // the first chunk is never longer than chunkSize
    expect(e.pool.stats().live).toBe(before);
    // breaking out of the loop frees them too
    for await (const c of model.stream(emb)) {
      void c;
      break;
    }
    expect(e.pool.stats().live).toBe(before);
    await expect(model.generate({ data: new Float32Array(8 * 3), shape: [3, 8] })).rejects.toThrow(
      /should be \[frames, 16\]/,
    );
    await expect(model.generate({ data: new Float32Array(0), shape: [0, 16] })).rejects.toThrow(/zero frames/);
    const nan = new Float32Array(32);
    nan[3] = NaN;
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
