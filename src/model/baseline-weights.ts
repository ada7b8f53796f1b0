// A fresh spectrogram baseline: conv filters Glorot-uniform (TF slim's default initialiser, with fan-in
// and fan-out counted over the kernel), the pitch table N(0, 1) scaled by 1/sqrt(dims), betas and
// moving means zero, moving variances one, the output bias zero (sigmoid(0) = 0.5).
import { Rng } from '../util/rng.js';
import { type BaselineConfig, baselineWeightSpecs, checkBaselineGeometry } from './baseline-config.js';
import { Weights } from './weights.js';

export function initBaselineWeights(
  c: BaselineConfig,
  seed: number,
  o: { betaScale?: number } = {},
): Weights<BaselineConfig> {
  checkBaselineGeometry(c);
  const w = new Weights(c);
  const rng = new Rng(seed);
  for (const s of baselineWeightSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (s.name.endsWith('/weights')) {
      const [kh, kw, a, b] = s.shape;
      const lim = Math.sqrt(6 / (kh * kw * (a + b)));
      data = rng.fill(n, -lim, lim);
    } else if (s.name.endsWith('/embedding_weights')) {
      const scale = 1 / Math.sqrt(s.shape[1]);
      data = Float32Array.from({ length: n }, () => rng.normal() * scale);
    } else if (s.name.endsWith('/moving_variance')) {
      data = new Float32Array(n).fill(1);
    } else if (s.name.endsWith('/beta') && o.betaScale) {
      // Tests give betas values, so their gradients are exercised away from zero.
      data = rng.fill(n, -o.betaScale, o.betaScale);
    } else {
      data = new Float32Array(n);
    }
    w.set(s.name, s.shape, data);
  }
  return w;
}
