// The GPU tape against the float64 reference tape, and training behaviour on the software adapter.
import { describe, it, expect } from 'vitest';
import { testEngine, rng, relativeError } from './helpers.js';
import { MICRO } from './micro-config.js';
import { ReferenceTape } from '../src/train/reference-tape.js';
import { autoencoderLoss } from '../src/train/graph.js';
import { TrainPlan } from '../src/train/train-plan.js';
import { ParamLayout } from '../src/train/params.js';
import { ADAM_DEFAULTS } from '../src/ops/adam.js';
import { muLawQuantizeReference } from '../src/ops/mulaw.js';
import { initWeights } from '../src/model/weights.js';
import { getConfig } from '../src/model/config.js';

describe('GPU tape', () => {
  it('gives the reference tape\'s loss and every parameter gradient (micro config, B = 2, T = 64)', async () => {
    const e = await testEngine();
    const [B, T] = [2, 64];
    const r = rng(5);
    const audio = Float32Array.from({ length: B * T }, (_, i) => 0.6 * Math.sin(i * 0.21 + (i >= T ? 1 : 0)) + 0.1 * (r.next() - 0.5));
    const w = initWeights(MICRO, 3, { biasScale: 0.2 });
    const layout = new ParamLayout(MICRO);
    const plan = await TrainPlan.build(e, MICRO, B, T, { params: layout.pack(w) });
    plan.step(audio, { lr: 1e-3, ...ADAM_DEFAULTS, emaDecay: 0.9999, maxGradNorm: 0 }, 1);
    const gpuLoss = await plan.loss();
    const grads = await plan.read('grads');

    const q = Array.from(audio, (v) => muLawQuantizeReference(v));
    const params = new Map([...w.tensors].map(([k, v]) => [k, { shape: v.shape, data: Float64Array.from(v.data) }]));
    const tape = new ReferenceTape(params, q.map((v) => v + 128));
    const loss = await autoencoderLoss(tape, MICRO, ReferenceTape.value(Float64Array.from(q, (v) => v / 128), [B, T, 1]));
    tape.backward(loss);
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
    expect(plan.trained.has('res_4/W')).toBe(false);
    expect(plan.trained.size).toBe(layout.entries.length - 2);
    plan.dispose();
  });
});
