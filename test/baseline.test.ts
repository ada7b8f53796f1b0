// The spectrogram baseline end to end at a size that can be differentiated numerically
// (baseline_micro): the float64 reference against central finite differences, the GPU training
// step against the reference (loss, every gradient, the batch norms' moving averages), the
// configs' geometry, and the spectrogram front end's round trip through Griffin-Lim.
import { describe, expect, it } from 'vitest';
import { baselineAudio, baselineInput } from '../src/dsp/baseline-spectrogram.js';
import { logSpectralDistance } from '../src/dsp/spectral.js';
import { baselineLoss } from '../src/graph/baseline.js';
import { BaselineModel } from '../src/autoencoder/baseline.js';
import { baselineSubject } from '../src/eval/experiments.js';
import { BaselineReferenceTape, baselineReconstructReference } from '../src/graph/reference-baseline.js';
import { ReferenceTape } from '../src/graph/reference.js';
import {
  BASELINE_CONFIGS,
  baselineWeightSpecs,
  checkBaselineGeometry,
  getBaselineConfig,
} from '../src/model/baseline-config.js';
import { initBaselineWeights } from '../src/model/baseline-weights.js';
import { ADAM_DEFAULTS } from '../src/ops/adam-update.js';
import { frequencyWeights } from '../src/ops/sigmoid-weighted-mse.js';
import { ParamLayout } from '../src/train/params.js';
import { TrainPlan } from '../src/train/train-plan.js';
import { liveStatistics } from '../src/train/trainer.js';
import { rng, testEngine } from './helpers.js';

const MICRO = getBaselineConfig('baseline_micro');

function notes(B: number, n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from(
    { length: B * n },
    (_, i) => 0.5 * Math.sin(i * (0.3 + 0.2 * Math.floor(i / n))) + 0.2 * (r.next() - 0.5),
  );
}

function spectrograms(audio: Float32Array, B: number): Float64Array {
  const cells = MICRO.freqBins * MICRO.timeFrames;
  const out = new Float64Array(B * cells);
  for (let b = 0; b < B; b++)
    out.set(baselineInput(audio.subarray(b * MICRO.samples, (b + 1) * MICRO.samples), MICRO), b * cells);
  return out;
}

const weightsOf = () =>
  frequencyWeights(MICRO.freqBins, {
    sampleRate: MICRO.sampleRate,
    nFft: MICRO.nFft,
    coeff: MICRO.fwLossCoeff,
    cutoffHz: MICRO.fwLossCutoff,
  });

describe('baseline configs', () => {
  it("every config's encoder reaches 1 x 1 and its decoder returns to the input; the paper's sizes", () => {
    for (const c of Object.values(BASELINE_CONFIGS)) checkBaselineGeometry(c);
    const paper = getBaselineConfig('baseline');
    expect([paper.freqBins, paper.timeFrames, paper.latent, paper.pitchDims]).toEqual([512, 256, 1984, 128]);
    const specs = new Map(baselineWeightSpecs(paper).map((s) => [s.name, s.shape]));
    expect(specs.get('encoder/0/weights')).toEqual([5, 5, 1, 128]);
    expect(specs.get('encoder/7_1/weights')).toEqual([4, 4, 512, 512]);
    expect(specs.get('encoder/z/weights')).toEqual([1, 1, 1024, 1984]);
    expect(specs.get('decoder/0/weights')).toEqual([1, 1, 1024, 2112]);
    expect(specs.get('decoder/8_1/weights')).toEqual([5, 5, 128, 128]);
    expect(specs.get('decoder/mag/weights')).toEqual([1, 1, 128, 1]);
  });
});

describe('baseline reference', () => {
  it('its gradients match central finite differences (baseline_micro, B = 2)', async () => {
    const B = 2;
    const x = spectrograms(notes(B, MICRO.samples, 1), B);
    const pitches = [60, 64];
    const w = initBaselineWeights(MICRO, 2, { betaScale: 0.2 });
    const params = new Map([...w.tensors].map(([k, v]) => [k, { shape: v.shape, data: Float64Array.from(v.data) }]));
    const lossAt = async (record: boolean) => {
      const tape = new BaselineReferenceTape(params, pitches, { record });
      const loss = await baselineLoss(
        tape,
        MICRO,
        ReferenceTape.value(x, [B, MICRO.freqBins, MICRO.timeFrames, 1]),
        weightsOf(),
      );
      return { tape, loss };
    };
    const { tape, loss } = await lossAt(true);
    tape.backward(loss);
    const r = rng(9);
    let checked = 0;
    for (const [name, p] of params) {
      if (name.includes('moving_')) continue; // not used in training mode
      const g = tape.grads.get(name);
      expect(g, name).toBeDefined();
      for (let k = 0; k < 3; k++) {
        const i = r.int(p.data.length);
        const h = 1e-5;
        const keep = p.data[i];
        (p.data as Float64Array)[i] = keep + h;
        const up = (await lossAt(false)).loss.data[0];
        (p.data as Float64Array)[i] = keep - h;
        const down = (await lossAt(false)).loss.data[0];
        (p.data as Float64Array)[i] = keep;
        const numeric = (up - down) / (2 * h);
        expect(Math.abs(numeric - g![i]), `${name}[${i}]: ${numeric} vs ${g![i]}`).toBeLessThan(
          1e-6 + 1e-4 * Math.abs(numeric),
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
  });
});

describe('baseline on the GPU', () => {
  it("a training step gives the reference's loss, every gradient and the moving averages (baseline_micro, B = 3)", async () => {
    const e = await testEngine();
    const B = 3;
    const audio = notes(B, MICRO.samples, 4);
    const pitches = [40, 60, 60];
    const w = initBaselineWeights(MICRO, 5, { betaScale: 0.2 });
    const layout = new ParamLayout(MICRO);
    const plan = await TrainPlan.build(e, MICRO, B, MICRO.samples, { params: layout.pack(w) });
    plan.step(audio, { lr: 0, ...ADAM_DEFAULTS, emaDecay: 0, maxGradNorm: 0 }, 1, pitches);
    const gpuLoss = await plan.loss();
    const grads = await plan.read('grads');
    const after = layout.unpack(await plan.read('params'));

    const params = new Map([...w.tensors].map(([k, v]) => [k, { shape: v.shape, data: Float64Array.from(v.data) }]));
    const tape = new BaselineReferenceTape(params, pitches);
    const x = spectrograms(audio, B);
    const loss = await baselineLoss(
      tape,
      MICRO,
      ReferenceTape.value(x, [B, MICRO.freqBins, MICRO.timeFrames, 1]),
      weightsOf(),
    );
    tape.backward(loss);
    expect(Math.abs(gpuLoss - loss.data[0])).toBeLessThan(1e-5 * loss.data[0]);
    let largest = 0;
    for (const g of tape.grads.values()) for (const v of g) largest = Math.max(largest, Math.abs(v));
    for (const entry of layout.entries) {
      const g = grads.subarray(entry.offset, entry.offset + entry.numel);
      if (entry.name.includes('moving_')) {
        expect(g.every((v) => v === 0)).toBe(true);
        continue;
      }
      // Relative to the tensor's own scale, floored at a thousandth of the largest gradient: batch norm
      // makes some gradients zero in exact arithmetic (a beta whose shift the next batch norm
      // removes), where float32 leaves ~1e-9 of rounding.
      const ref = tape.grads.get(entry.name)!;
      let worst = 0;
      let own = 0;
      for (let i = 0; i < g.length; i++) {
        worst = Math.max(worst, Math.abs(g[i] - ref[i]));
        own = Math.max(own, Math.abs(ref[i]));
      }
      expect(worst, entry.name).toBeLessThan(1e-4 * Math.max(own, 1e-3 * largest));
    }
    // moving = 0.999 moving + 0.001 batch statistic (mean 0 / variance 1 to start)
    for (const [scope, s] of tape.batchStats) {
      const mean = after.get(`${scope}/BatchNorm/moving_mean`).data;
      const variance = after.get(`${scope}/BatchNorm/moving_variance`).data;
      for (let c = 0; c < mean.length; c++) {
        expect(mean[c]).toBeCloseTo(0.001 * s.mean[c], 6);
        expect(variance[c]).toBeCloseTo(0.999 + 0.001 * s.variance[c], 5);
      }
    }
    plan.dispose();
  });
});

describe('baseline spectrogram front end', () => {
  it("Magenta's layout [512 x 256] in [0, 1], and back to audio by Griffin-Lim close to the note", () => {
    const c = getBaselineConfig('baseline');
    const audio = Float32Array.from({ length: c.samples }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 330 * i) / 16000));
    const m = baselineInput(audio, c);
    expect(m.length).toBe(512 * 256);
    expect(m.reduce((a, b) => Math.max(a, b), 0)).toBe(1);
    expect(m.reduce((a, b) => Math.min(a, b), 1)).toBeGreaterThanOrEqual(0);
    // frames 251..255 are padding: zero
    for (let f = 0; f < 512; f++) expect(m[f * 256 + 253]).toBe(0);
    const back = baselineAudio(m, c, { iterations: 30, peak: 0.5 });
    expect(back.length).toBe(c.samples);
    expect(logSpectralDistance(back, audio)).toBeLessThan(6);
  });
});

describe('baseline inference', () => {
  it('BaselineModel decodes what the float64 reference decodes (moving-average batch norm), and the eval subject runs', async () => {
    const e = await testEngine();
    const w = initBaselineWeights(MICRO, 6, { betaScale: 0.2 });
    // moving statistics away from 0 / 1, so inference mode is told apart from training mode
    for (const [name, t] of w.tensors) {
      if (name.endsWith('moving_mean')) t.data.set(t.data.map((_, i) => 0.1 * Math.sin(i + 1)));
      if (name.endsWith('moving_variance')) t.data.set(t.data.map((_, i) => 0.5 + 0.25 * Math.cos(i)));
    }
    const model = new BaselineModel(e, w);
    const B = 2;
    const audio = notes(B, MICRO.samples, 7);
    const pitches = [50, 70];
    const x = spectrograms(audio, B);
    const codes = await model.encodeSpectrograms(Float32Array.from(x), B);
    expect(codes.length).toBe(B * MICRO.latent);
    const gpu = await model.decodeCodes(codes, pitches);
    const ref = await baselineReconstructReference(w, Float32Array.from(x), pitches);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(gpu[i] - ref[i]));
    expect(worst).toBeLessThan(1e-5);
    // through the subject: lengths and peaks as asked
    const subject = baselineSubject(model, 'micro', { iterations: 3 });
    const long = [audio.subarray(0, MICRO.samples), Float32Array.from({ length: 100 }, (_, i) => 0.3 * Math.sin(i))];
    const out = await subject.reconstruct(long, pitches);
    expect(out.map((a) => a.length)).toEqual([MICRO.samples, 100]);
    const peak = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak(out[0])).toBeCloseTo(peak(long[0]), 5);
    const morph = await subject.interpolate([[long[0], long[1]]], 0.5, [60]);
    expect(morph[0].length).toBe(MICRO.samples);
    model.dispose();
  });
});

describe('baseline limits', () => {
  it("the paper's config past the adapter's binding limit is refused before allocating, with the batch that fits", async () => {
    const e = await testEngine();
    const c = getBaselineConfig('baseline');
    const limit = e.device.limits.maxStorageBufferBindingSize;
    const widest = 512 * 256 * 128 * 4; // the last transposed conv's output per note (64 MiB)
    const fits = Math.floor(limit / widest); // 2 on lavapipe's 128 MiB bindings
    const live = e.pool.stats().live;
    await expect(TrainPlan.build(e, c, fits + 1, c.samples, { params: new Float32Array(0) })).rejects.toThrow(
      new RegExp(
        `baseline batch of ${fits + 1} needs a \\d+ MiB activation of baseline.*use a batch of at most ${fits}`,
      ),
    );
    await expect(TrainPlan.build(e, c, 1, 6144, { params: new Float32Array(0) })).rejects.toThrow(
      /trains on whole notes of 64000 samples, got crops of 6144/,
    );
    expect(e.pool.stats().live).toBe(live);
  });
});

describe('baseline training limits', () => {
  it('refuses a batch of 1 (its 1 x 1 batch norms would ignore the input) and keeps batch-norm statistics out of the weight average', async () => {
    const e = await testEngine();
    await expect(TrainPlan.build(e, MICRO, 1, MICRO.samples, { params: new Float32Array(0) })).rejects.toThrow(
      /needs a batch of at least 2 notes/,
    );
    const w = initBaselineWeights(MICRO, 1);
    const ema = initBaselineWeights(MICRO, 1);
    w.get('encoder/0/BatchNorm/moving_mean').data.fill(0.5);
    w.get('encoder/0/weights').data.fill(0.25);
    const out = liveStatistics(ema, w);
    expect(out.get('encoder/0/BatchNorm/moving_mean').data.every((v) => v === 0.5)).toBe(true);
    expect(out.get('encoder/0/weights').data.every((v) => v === 0.25)).toBe(false); // the average stays
  });
});
