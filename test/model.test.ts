// The whole model on the GPU against the plain-TypeScript reference.
import { describe, it, expect } from 'vitest';
import { testEngine, rng, expectClose, relativeError } from './helpers.js';
import { randomModel, modelFromWeights } from '../src/nsynth.js';
import { getConfig, decoderReceptiveField, encoderReach } from '../src/model/config.js';
import { initWeights, parameterCount, weightSpecs } from '../src/model/weights.js';
import { encodeReference, teacherForcedLogitsReference } from '../src/graph/reference.js';

/** A test note: a few decaying partials plus noise, within [-1, 1]. */
function note(seed: number, n: number): Float32Array {
  const r = rng(seed);
  const f = 110 + 300 * r.next();
  return Float32Array.from(
    { length: n },
    (_, t) =>
      0.6 *
        Math.exp(-t / 8000) *
        (Math.sin((2 * Math.PI * f * t) / 16000) + 0.3 * Math.sin((6 * Math.PI * f * t) / 16000)) +
      0.05 * r.uniform(-1, 1),
  );
}

describe('configs', () => {
  it("h512_bo16 has Magenta's 374 tensors and 61,804,048 parameters", () => {
    const c = getConfig('h512_bo16');
    expect(weightSpecs(c)).toHaveLength(374);
    expect(parameterCount(c)).toBe(61_804_048);
    const byName = new Map(weightSpecs(c).map((s) => [s.name, s.shape]));
    expect(byName.get('dilatedconv_7/W')).toEqual([1, 3, 512, 1024]);
    expect(byName.get('cond_map_7/biases')).toEqual([1024]);
    expect(byName.get('ae_bottleneck/W')).toEqual([1, 1, 128, 16]);
    expect(byName.get('logits/W')).toEqual([1, 1, 256, 256]);
    expect(decoderReceptiveField(c)).toBe(6141);
    expect(encoderReach(c)).toBe(3070);
  });
});

describe('tiny model: GPU vs reference', () => {
  it('encoder and teacher-forced decoder, batch of 2, within 1e-4 relative', async () => {
    const e = await testEngine();
    const w = initWeights(getConfig('tiny'), 11, { biasScale: 0.1 });
    const model = await modelFromWeights(e, w);
    const T = 2048;
    const notes = [note(1, T), note(2, T)];
    const emb = await model.encode(notes);
    expect(emb.shape).toEqual([2, 4, 16]);
    const flat = new Float32Array(2 * T);
    flat.set(notes[0]);
    flat.set(notes[1], T);
    const embRef = await encodeReference(w, flat, 2);
    expect(relativeError(emb.data, embRef)).toBeLessThan(1e-4);
    expectClose(emb.data, embRef, 1e-4, 1e-5, 'embedding');
    const logits = await model.teacherForcedLogits(notes, emb);
    expect(logits.shape).toEqual([2, T, 256]);
    const ref = await teacherForcedLogitsReference(w, flat, emb.data, 2);
    expect(relativeError(logits.data, ref)).toBeLessThan(1e-4);
    expectClose(logits.data, ref, 1e-4, 1e-4, 'logits');
    model.dispose();
  });

  it('long notes split into overlapping windows give the same result as one pass', async () => {
    const e = await testEngine();
    const w = initWeights(getConfig('tiny'), 12, { biasScale: 0.1 });
    const whole = await modelFromWeights(e, w);
    const windowed = await modelFromWeights(e, w, { maxWindow: 1536 });
    const a = note(3, 6144);
    const embA = await whole.encode(a);
    const embB = await windowed.encode(a);
    expectClose(embB.data, embA.data, 1e-5, 1e-6, 'windowed embedding');
    const la = await whole.teacherForcedLogits(a, embA);
    const lb = await windowed.teacherForcedLogits(a, embA);
    expectClose(lb.data, la.data, 1e-5, 1e-5, 'windowed logits');
    whole.dispose();
    windowed.dispose();
  });

  it('pitch-conditioned variant (one-hot pitch concatenated to the embedding)', async () => {
    const e = await testEngine();
    const w = initWeights(getConfig('tiny_pitch'), 13, { biasScale: 0.1 });
    expect(w.get('cond_map_1/W').shape).toEqual([1, 1, 144, 64]);
    const model = await modelFromWeights(e, w);
    const a = note(4, 1024);
    const emb = await model.encode(a);
    const l60 = await model.teacherForcedLogits(a, emb, { pitch: 60 });
    const l61 = await model.teacherForcedLogits(a, emb, { pitch: 61 });
    const ref = await teacherForcedLogitsReference(w, a, emb.data, 1, [60]);
    expectClose(l60.data, ref, 1e-4, 1e-4, 'pitch 60 logits');
    expect(relativeError(l61.data, l60.data)).toBeGreaterThan(1e-3);
    await expect(model.teacherForcedLogits(a, emb)).rejects.toThrow(/pitch-conditioned/);
    model.dispose();
  });

  it('one pitch for a batch applies to every note; a list must have one per note', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny_pitch'), 14, { biasScale: 0.1 }));
    const notes = [note(5, 1024), note(6, 1024)];
    const emb = await model.encode(notes);
    const one = await model.teacherForcedLogits(notes, emb, { pitch: 64 });
    const each = await model.teacherForcedLogits(notes, emb, { pitch: [64, 64] });
    expect(one.shape).toEqual([2, 1024, 256]);
    expect(one.data).toEqual(each.data);
    await expect(model.teacherForcedLogits(notes, emb, { pitch: [64] })).rejects.toThrow(
      /pass \{ pitch: MIDI \} \(a MIDI note number, or one per note: 2 here/,
    );
    await expect(model.teacherForcedLogits(notes, emb, { pitch: 128 })).rejects.toThrow(/not a MIDI note number/);
    model.dispose();
  });

  it('refuses bad input with a clear error before GPU work', async () => {
    const e = await testEngine();
    const model = await randomModel(e, 'tiny', 1);
    await expect(model.encode(new Float32Array(100))).rejects.toThrow(/shorter than one 512-sample frame/);
    await expect(model.encode(new Float32Array(1000), { lengthPolicy: 'strict' })).rejects.toThrow(
      /not a positive multiple of 512/,
    );
    const nan = new Float32Array(1024);
    nan[7] = NaN;
    await expect(model.encode(nan)).rejects.toThrow(/sample 7 is NaN/);
    await expect(
      model.teacherForcedLogits(new Float32Array(1024), { data: new Float32Array(3 * 16), shape: [3, 16] }),
    ).rejects.toThrow(/3 frames, the audio needs 2/);
    await expect(
      model.teacherForcedLogits(new Float32Array(1024), { data: new Float32Array(2 * 8), shape: [2, 8] }),
    ).rejects.toThrow(/should be \[frames, 16\]/);
    // 1000 samples are trimmed to 512 (Magenta's trim_for_encoding) or padded to 1024
    expect((await model.encode(new Float32Array(1000))).shape).toEqual([1, 16]);
    expect((await model.encode(new Float32Array(1000), { lengthPolicy: 'pad' })).shape).toEqual([2, 16]);
    model.dispose();
  });
});
