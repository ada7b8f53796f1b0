// The GPU tape against the float64 reference tape, and the training graph against the inference model.
import { describe, it, expect } from 'vitest';
import { testEngine, rng, relativeError } from './helpers.js';
import { MICRO, MICRO_PITCH } from './micro-config.js';
import { ReferenceTape } from '../src/graph/reference.js';
import { autoencoderLogits, autoencoderLoss } from '../src/graph/wavenet.js';
import { TrainPlan } from '../src/train/train-plan.js';
import { ParamLayout } from '../src/train/params.js';
import { ADAM_DEFAULTS } from '../src/ops/adam-update.js';
import { EMBEDDING_DROPPED } from '../src/ops/concat-one-hot.js';
import { muLawQuantizeArray, muLawQuantizeReference } from '../src/ops/mu-law.js';
import { noisyDecoderInput, scheduledSamplingInput } from '../src/train/data.js';
import { logSoftmaxNllReference } from '../src/ops/log-softmax-nll.js';
import { initWeights, type Weights } from '../src/model/weights.js';
import { getConfig, type ModelConfig } from '../src/model/config.js';
import { BASELINE_CONFIGS } from '../src/model/baseline-config.js';
import { modelFromWeights } from '../src/nsynth.js';

function testAudio(B: number, T: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from(
    { length: B * T },
    (_, i) => 0.6 * Math.sin(i * 0.21 + Math.floor(i / T)) + 0.1 * (r.next() - 0.5),
  );
}

/**
 * The float64 reference tape's loss (and, after it, its gradients) for a batch: the quantised audio
 * into the encoder and as targets, and into the decoder unless `decoderInput` (scaled classes) is given.
 */
async function referenceLoss(
  config: ModelConfig,
  w: Weights<ModelConfig>,
  audio: Float32Array,
  [B, T]: [number, number],
  pitch: number[],
  decoderInput?: Float32Array,
) {
  const q = Array.from(audio, (v) => muLawQuantizeReference(v));
  const params = new Map([...w.tensors].map(([k, v]) => [k, { shape: v.shape, data: Float64Array.from(v.data) }]));
  const tape = new ReferenceTape(
    params,
    q.map((v) => v + 128),
    pitch,
  );
  const x = ReferenceTape.value(
    Float64Array.from(q, (v) => v / 128),
    [B, T, 1],
  );
  const input = decoderInput ? ReferenceTape.value(Float64Array.from(decoderInput), [B, T, 1]) : x;
  const loss = await autoencoderLoss(tape, config, x, input);
  tape.backward(loss);
  return { tape, loss };
}

describe('GPU tape', () => {
  for (const config of [MICRO, MICRO_PITCH] as ModelConfig[]) {
    it(`gives the reference tape's loss and every parameter gradient (${config.name}, B = 2, T = 64)`, async () => {
      const e = await testEngine();
      const [B, T] = [2, 64];
      const audio = testAudio(B, T, 5);
      const pitch = [60, 71];
      const w = initWeights(config, 3, { biasScale: 0.2 });
      const layout = new ParamLayout(config);
      const plan = await TrainPlan.build(e, config, B, T, { params: layout.pack(w) });
      plan.step(audio, { lr: 1e-3, ...ADAM_DEFAULTS, emaDecay: 0.9999, maxGradNorm: 0 }, 1, pitch);
      const gpuLoss = await plan.loss();
      const grads = await plan.read('grads');

      const { tape, loss } = await referenceLoss(config, w, audio, [B, T], pitch);
      expect(Math.abs(gpuLoss - loss.data[0])).toBeLessThan(1e-5 * loss.data[0]);
      for (const entry of layout.entries) {
        const g = grads.subarray(entry.offset, entry.offset + entry.numel);
        const ref = tape.grads.get(entry.name);
        if (!ref) {
          expect(plan.trained.has(entry.name), `${entry.name} has no reference gradient`).toBe(false);
          expect(g.every((v) => v === 0)).toBe(true);
          continue;
        }
        expect(relativeError(g, ref), entry.name).toBeLessThan(1e-4);
      }
      // Only the last residual projection (its output feeds nothing) gets no gradient.
      expect(layout.entries.filter((x) => !plan.trained.has(x.name)).map((x) => x.name)).toEqual([
        'res_4/W',
        'res_4/biases',
      ]);
      plan.dispose();
    });
  }

  it("with an item's embedding dropped, gives the reference tape's loss and gradients (the encoder's only from the other item)", async () => {
    const e = await testEngine();
    const config = MICRO_PITCH as ModelConfig;
    const [B, T] = [2, 64];
    const audio = testAudio(B, T, 7);
    const w = initWeights(config, 4, { biasScale: 0.2 });
    const layout = new ParamLayout(config);
    const hyper = { lr: 1e-3, ...ADAM_DEFAULTS, emaDecay: 0.9999, maxGradNorm: 0 };
    const plan = await TrainPlan.build(e, config, B, T, { params: layout.pack(w) });
    plan.step(audio, hyper, 1, [60, 71], undefined, [false, true]);
    const gpuLoss = await plan.loss();
    const grads = await plan.read('grads');
    const { tape, loss } = await referenceLoss(config, w, audio, [B, T], [60, 71 + EMBEDDING_DROPPED]);
    expect(Math.abs(gpuLoss - loss.data[0])).toBeLessThan(1e-5 * loss.data[0]);
    for (const entry of layout.entries) {
      const ref = tape.grads.get(entry.name);
      if (!ref) continue;
      expect(relativeError(grads.subarray(entry.offset, entry.offset + entry.numel), ref), entry.name).toBeLessThan(
        1e-4,
      );
    }
    // Dropping changes the step: the same batch with both embeddings gives another loss.
    plan.step(audio, hyper, 1, [60, 71]);
    expect(Math.abs((await plan.loss()) - gpuLoss)).toBeGreaterThan(1e-6);
    // Bad flags are refused, naming the problem.
    expect(() => plan.step(audio, hyper, 1, [60, 71], undefined, [true])).toThrow(/one flag per batch item/);
    plan.dispose();
    const plain = await TrainPlan.build(e, MICRO as ModelConfig, B, T, {
      params: new ParamLayout(MICRO).pack(initWeights(MICRO, 4)),
    });
    expect(() => plain.step(audio, hyper, 1, undefined, undefined, [false, true])).toThrow(/no pitch input/);
    plain.dispose();
  });

  it("the training graph's loss is the inference model's teacher-forced cross-entropy (tiny_pitch)", async () => {
    const e = await testEngine();
    const c = getConfig('tiny_pitch');
    const [B, T] = [2, 1024];
    const audio = testAudio(B, T, 8);
    const pitch = [48, 64];
    const w = initWeights(c, 4, { biasScale: 0.1 });
    const plan = await TrainPlan.build(e, c, B, T, { params: new ParamLayout(c).pack(w) });
    plan.evaluate(audio, pitch);
    const trainLoss = await plan.loss();
    plan.dispose();
    const model = await modelFromWeights(e, w);
    const notes = [audio.subarray(0, T), audio.subarray(T)];
    const logits = await model.teacherForcedLogits(notes, null, { pitch });
    const labels = Array.from(audio, (v) => muLawQuantizeReference(v) + 128);
    const { nll } = logSoftmaxNllReference(logits.data, 256, labels);
    const modelLoss = nll.reduce((a, b) => a + b, 0) / nll.length;
    expect(Math.abs(trainLoss - modelLoss)).toBeLessThan(1e-4 * modelLoss);
    expect(() => plan.evaluate(audio)).toThrow(/pitch-conditioned: give one MIDI pitch per batch item/);
    const limit = e.device.limits.maxStorageBufferBindingSize;
    const tooMany = Math.ceil(limit / (6144 * 1024 * 4)) + 1;
    await expect(
      TrainPlan.build(e, getConfig('h512_bo16'), tooMany, 6144, { params: new Float32Array(0) }),
    ).rejects.toThrow(/binding limit: use a batch of at most \d+ at this crop/);
    model.dispose();
  });

  it('input-noise training: the decoder reads the noisy input, the encoder and the targets the clean audio (loss and gradients against the reference)', async () => {
    const e = await testEngine();
    const config = MICRO_PITCH;
    const [B, T] = [2, 64];
    const audio = testAudio(B, T, 6);
    const pitch = [55, 67];
    const noisy = noisyDecoderInput(audio, 3, 1, 0);
    const w = initWeights(config, 5, { biasScale: 0.2 });
    const layout = new ParamLayout(config);
    const hyper = { lr: 1e-3, ...ADAM_DEFAULTS, emaDecay: 0.9999, maxGradNorm: 0 };
    const plan = await TrainPlan.build(e, config, B, T, { params: layout.pack(w) }, { noisyDecoderInput: true });
    // Evaluation teacher-forces with the clean audio: the same loss as a plan without input noise.
    plan.evaluate(audio, pitch);
    const evalNoisyPlan = await plan.loss();
    const plain = await TrainPlan.build(e, config, B, T, { params: layout.pack(w) });
    plain.evaluate(audio, pitch);
    expect(evalNoisyPlan).toBe(await plain.loss());
    plan.step(audio, hyper, 1, pitch, noisy);
    const gpuLoss = await plan.loss();
    const grads = await plan.read('grads');

    const { tape, loss } = await referenceLoss(config, w, audio, [B, T], pitch, noisy);
    expect(Math.abs(gpuLoss - loss.data[0])).toBeLessThan(1e-5 * loss.data[0]);
    for (const entry of layout.entries) {
      const ref = tape.grads.get(entry.name);
      if (ref)
        expect(relativeError(grads.subarray(entry.offset, entry.offset + entry.numel), ref), entry.name).toBeLessThan(
          1e-4,
        );
    }
    expect(Math.abs(evalNoisyPlan - gpuLoss)).toBeGreaterThan(1e-3); // the noise did change the step's loss
    expect(() => plan.step(audio, hyper, 2, pitch)).toThrow(/teacher-forces the decoder with a given input/);
    expect(() => plain.step(audio, hyper, 1, pitch, noisy)).toThrow(/built without noisyDecoderInput/);
    await expect(
      TrainPlan.build(
        e,
        BASELINE_CONFIGS.baseline_micro,
        2,
        0,
        { params: new Float32Array(0) },
        { noisyDecoderInput: true },
      ),
    ).rejects.toThrow(/no autoregressive input/);
    plan.dispose();
    plain.dispose();
  });

  it("predict: the forward pass's logits on a given decoder input, as the reference computes them (scheduled sampling's first pass)", async () => {
    const e = await testEngine();
    const config = MICRO_PITCH;
    const [B, T] = [2, 64];
    const audio = testAudio(B, T, 7);
    const pitch = [50, 62];
    const noisy = noisyDecoderInput(audio, 3, 2, 0);
    const w = initWeights(config, 6, { biasScale: 0.2 });
    const layout = new ParamLayout(config);
    const plan = await TrainPlan.build(e, config, B, T, { params: layout.pack(w) }, { noisyDecoderInput: true });
    const logits = await plan.predict(audio, pitch, noisy);
    expect(logits.length).toBe(B * T * config.numClasses);

    const q = Array.from(audio, (v) => muLawQuantizeReference(v));
    const params = new Map([...w.tensors].map(([k, v]) => [k, { shape: v.shape, data: Float64Array.from(v.data) }]));
    const ref = await autoencoderLogits(
      new ReferenceTape(
        params,
        q.map((v) => v + 128),
        pitch,
      ),
      config,
      ReferenceTape.value(
        Float64Array.from(q, (v) => v / 128),
        [B, T, 1],
      ),
      ReferenceTape.value(Float64Array.from(noisy), [B, T, 1]),
    );
    expect(relativeError(logits, ref.data)).toBeLessThan(1e-5);
    // A plan without a given decoder input predicts from the clean audio.
    const plain = await TrainPlan.build(e, config, B, T, { params: layout.pack(w) });
    const clean = await plain.predict(audio, pitch);
    expect(clean).not.toEqual(logits);
    expect(await plan.predict(audio, pitch, muLawQuantizeArray(audio).scaled)).toEqual(clean);
    // The plan's loss after predict is the teacher-forced loss on that input: a step trains on the same graph.
    await plan.predict(audio, pitch, noisy);
    const predictedLoss = await plan.loss();
    plan.step(audio, { lr: 1e-3, ...ADAM_DEFAULTS, emaDecay: 0.9999, maxGradNorm: 0 }, 1, pitch, noisy);
    expect(await plan.loss()).toBe(predictedLoss);
    plan.dispose();
    plain.dispose();
  });
});

describe('scheduledSamplingInput', () => {
  const classes = 256;
  /** Logits for n samples whose every row puts probabilities `probs` on classes 10, 11, 12 (the rest ~0). */
  function peaked(n: number, probs: number[]): Float32Array {
    const row = new Float32Array(classes).fill(-60);
    probs.forEach((p, k) => {
      row[10 + k] = Math.log(p) + 3; // an offset: the softmax must not care
    });
    const out = new Float32Array(n * classes);
    for (let i = 0; i < n; i++) out.set(row, i * classes);
    return out;
  }

  it("replaces each sample with probability p by a draw from the model's softmax, seeded by (seed, step)", () => {
    const n = 20000;
    const base = Float32Array.from({ length: n }, (_, i) => ((i % 200) - 100) / 128);
    const logits = peaked(n, [0.5, 0.3, 0.2]);
    expect(scheduledSamplingInput(logits, base, 0, 1, 4)).toEqual(base);
    const all = scheduledSamplingInput(logits, base, 1, 1, 4);
    const drawn = Array.from(all, (v) => Math.round(v * 128 + 128));
    const freq = [10, 11, 12].map((k) => drawn.filter((c) => c === k).length / n);
    expect(freq[0] + freq[1] + freq[2]).toBe(1);
    // Binomial std at n = 20000 is under 0.0036: 0.015 is beyond four of them.
    expect(Math.abs(freq[0] - 0.5)).toBeLessThan(0.015);
    expect(Math.abs(freq[1] - 0.3)).toBeLessThan(0.015);
    expect(Math.abs(freq[2] - 0.2)).toBeLessThan(0.015);

    const some = scheduledSamplingInput(logits, base, 0.25, 1, 4);
    const replaced = some.filter((v, i) => v !== base[i]).length / n;
    // Replaced samples whose draw equals the base class stay equal: base hits classes 10-12 on 3 in 200.
    expect(Math.abs(replaced - 0.25)).toBeLessThan(0.015);
    expect(some.every((v, i) => v === base[i] || [10, 11, 12].includes(Math.round(v * 128 + 128)))).toBe(true);
    expect(scheduledSamplingInput(logits, base, 0.25, 1, 4)).toEqual(some);
    expect(scheduledSamplingInput(logits, base, 0.25, 1, 5)).not.toEqual(some);
    expect(scheduledSamplingInput(logits, base, 0.25, 2, 4)).not.toEqual(some);
    expect(() => scheduledSamplingInput(logits.subarray(1), base, 0.5, 1, 4)).toThrow(/20000 samples of 256 classes/);
  });

  it('draws the argmax of a sharp row and stays in range at the extreme classes', () => {
    const n = 64;
    const logits = new Float32Array(n * classes).fill(0);
    for (let i = 0; i < n; i++) logits[i * classes + (i % 2 ? 255 : 0)] = 80;
    const out = scheduledSamplingInput(logits, new Float32Array(n), 1, 3, 0);
    expect(Array.from(out, (v) => Math.round(v * 128 + 128))).toEqual(
      Array.from({ length: n }, (_, i) => (i % 2 ? 255 : 0)),
    );
  });
});

describe('noisyDecoderInput', () => {
  it('moves each class by a rounded Gaussian of sigma classes, clamped, seeded by (seed, step)', () => {
    const r = rng(3);
    const audio = Float32Array.from({ length: 40000 }, () => 0.8 * (r.next() - 0.5));
    audio[0] = 1;
    audio[1] = -1;
    const { classes, scaled } = muLawQuantizeArray(audio);
    expect(noisyDecoderInput(audio, 0, 1, 7)).toEqual(scaled);
    const noisy = noisyDecoderInput(audio, 3, 1, 7);
    const moved = Array.from(noisy, (v, i) => Math.round(v * 128 + 128) - classes[i]);
    const inner = moved.filter((_, i) => classes[i] > 20 && classes[i] < 235);
    const mean = inner.reduce((a, b) => a + b, 0) / inner.length;
    const std = Math.sqrt(inner.reduce((a, b) => a + (b - mean) ** 2, 0) / inner.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(std).toBeGreaterThan(2.9); // rounding adds 1/12 to the variance: sqrt(9 + 1/12) = 3.01
    expect(std).toBeLessThan(3.1);
    expect(noisy.every((v) => v >= -1 && v < 1)).toBe(true);
    expect(noisy[0]).toBeLessThanOrEqual(127 / 128);
    expect(noisyDecoderInput(audio, 3, 1, 7)).toEqual(noisy);
    expect(noisyDecoderInput(audio, 3, 1, 8)).not.toEqual(noisy);
    expect(noisyDecoderInput(audio, 3, 2, 7)).not.toEqual(noisy);
  });
});
