// The float64 evaluator of the spectrogram baseline's ops: the reference tape extended with the
// 2-D convs, batch norm, leaky ReLU, pitch embedding, channel concatenation and the sigmoid
// weighted MSE, each from the plain references of src/ops and recording its backward. The oracle
// of the GPU baseline tape, itself checked against finite differences (test/baseline.test.ts).
import type { Weights } from '../model/weights.js';
import { type BaselineConfig, checkBaselineGeometry } from '../model/baseline-config.js';
import {
  BATCH_NORM_EPS,
  batchNormBackwardReference,
  batchNormInferReference,
  batchNormTrainReference,
} from '../ops/batch-norm.js';
import { channelPlaceReference } from '../ops/channel-place.js';
import { channelSliceReference } from '../ops/concat-one-hot.js';
import {
  conv2dBackwardInputReference,
  conv2dBackwardWeightReference,
  conv2dGeometry,
  conv2dReference,
} from '../ops/conv2d.js';
import { leakyReluBackwardReference, leakyReluReference } from '../ops/leaky-relu.js';
import { pitchEmbeddingBackwardReference, pitchEmbeddingReference } from '../ops/pitch-embedding.js';
import { sigmoidReference } from '../ops/sigmoid.js';
import { sigmoidWeightedMseBackwardReference, sigmoidWeightedMseReference } from '../ops/sigmoid-weighted-mse.js';
import { baselineReconstruct, conv2dShapeOf } from './baseline.js';
import type { BaselineOps, Conv2dOp } from './ops.js';
import { type RefParam, type RefValue, type ReferenceOptions, ReferenceTape } from './reference.js';

export interface BaselineReferenceOptions extends ReferenceOptions {
  /** 'batch': batch statistics, as in training (default); 'moving': the stored moving averages. */
  batchNorm?: 'batch' | 'moving';
}

export class BaselineReferenceTape extends ReferenceTape implements BaselineOps<RefValue> {
  private readonly bnMode: 'batch' | 'moving';
  /** Batch statistics of every batch norm run in 'batch' mode, by scope (for tests and moving averages). */
  readonly batchStats = new Map<string, { mean: Float64Array; variance: Float64Array }>();

  constructor(params: Map<string, RefParam>, pitches: ArrayLike<number>, o: BaselineReferenceOptions = {}) {
    super(params, [], pitches, o);
    this.bnMode = o.batchNorm ?? 'batch';
  }

  async conv2d(x: RefValue, layer: string, o: Conv2dOp): Promise<RefValue> {
    await this.breathe();
    const W = this.param(`${layer}/weights`);
    const bias = o.bias ? this.param(`${layer}/biases`) : null;
    const s = conv2dShapeOf(x.shape, o, W.shape);
    const { OH, OW } = conv2dGeometry(s);
    let y: RefValue;
    if (o.transpose) {
      if (OH !== x.shape[1] || OW !== x.shape[2]) throw new Error(`${layer}: input [${x.shape}] is not ${OH} x ${OW}`);
      const data = conv2dBackwardInputReference(s, x.data, W.data);
      if (bias) for (let i = 0; i < data.length; i++) data[i] += bias.data[i % s.cin];
      y = ReferenceTape.value(data, [s.B, s.H, s.W, s.cin]);
    } else {
      y = ReferenceTape.value(conv2dReference(s, x.data, W.data, bias?.data ?? null), [s.B, OH, OW, s.cout]);
    }
    this.later(() => {
      if (!y.grad) return;
      if (o.transpose) {
        this.addGrad(x, conv2dReference(s, y.grad, W.data, null));
        this.addParamGrad(`${layer}/weights`, conv2dBackwardWeightReference(s, y.grad, x.data).dw);
        if (bias) {
          const db = new Float64Array(s.cin);
          for (let i = 0; i < y.grad.length; i++) db[i % s.cin] += y.grad[i];
          this.addParamGrad(`${layer}/biases`, db);
        }
      } else {
        this.addGrad(x, conv2dBackwardInputReference(s, y.grad, W.data));
        const { dw, dbias } = conv2dBackwardWeightReference(s, x.data, y.grad);
        this.addParamGrad(`${layer}/weights`, dw);
        if (bias) this.addParamGrad(`${layer}/biases`, dbias);
      }
    });
    return y;
  }

  async batchNorm(x: RefValue, scope: string): Promise<RefValue> {
    await this.breathe();
    const C = x.shape[x.shape.length - 1];
    const beta = this.param(`${scope}/BatchNorm/beta`);
    if (this.bnMode === 'moving') {
      const mean = this.param(`${scope}/BatchNorm/moving_mean`);
      const variance = this.param(`${scope}/BatchNorm/moving_variance`);
      const y = ReferenceTape.value(batchNormInferReference(x.data, beta.data, mean.data, variance.data, C), x.shape);
      this.later(() => {
        if (!y.grad) return;
        // Fixed statistics: a per-channel scale, and beta's gradient the sum of dy.
        const dx = new Float64Array(y.grad.length);
        const dbeta = new Float64Array(C);
        for (let i = 0; i < dx.length; i++) {
          dx[i] = y.grad[i] / Math.sqrt(variance.data[i % C] + BATCH_NORM_EPS);
          dbeta[i % C] += y.grad[i];
        }
        this.addGrad(x, dx);
        this.addParamGrad(`${scope}/BatchNorm/beta`, dbeta);
      });
      return y;
    }
    const r = batchNormTrainReference(x.data, beta.data, C);
    this.batchStats.set(scope, { mean: r.mean, variance: r.variance });
    const y = ReferenceTape.value(r.y, x.shape);
    this.later(() => {
      if (!y.grad) return;
      const g = batchNormBackwardReference(x.data, y.grad, C);
      this.addGrad(x, g.dx);
      this.addParamGrad(`${scope}/BatchNorm/beta`, g.dbeta);
    });
    return y;
  }

  async leakyRelu(x: RefValue, alpha: number): Promise<RefValue> {
    const y = ReferenceTape.value(leakyReluReference(x.data, alpha), x.shape);
    this.later(() => {
      if (y.grad) this.addGrad(x, leakyReluBackwardReference(x.data, y.grad, alpha));
    });
    return y;
  }

  async pitchEmbedding(layer: string, dims: number): Promise<RefValue> {
    const table = this.param(`${layer}/embedding_weights`);
    const classes = table.shape[0];
    const B = this.pitches.length;
    const y = ReferenceTape.value(pitchEmbeddingReference(table.data, this.pitches, dims), [B, 1, 1, dims]);
    this.later(() => {
      if (y.grad)
        this.addParamGrad(
          `${layer}/embedding_weights`,
          pitchEmbeddingBackwardReference(this.pitches, y.grad, classes, dims),
        );
    });
    return y;
  }

  async concatChannels(a: RefValue, b: RefValue): Promise<RefValue> {
    const ca = a.shape[a.shape.length - 1];
    const cb = b.shape[b.shape.length - 1];
    const rows = a.data.length / ca;
    if (b.data.length / cb !== rows) throw new Error(`concatChannels: [${a.shape}] and [${b.shape}] differ in rows`);
    const out = channelPlaceReference(a.data, rows, ca, ca + cb, 0);
    channelPlaceReference(b.data, rows, cb, ca + cb, ca, out);
    const y = ReferenceTape.value(out, [...a.shape.slice(0, -1), ca + cb]);
    this.later(() => {
      if (!y.grad) return;
      this.addGrad(a, channelSliceReference(y.grad, ca + cb, 0, ca));
      this.addGrad(b, channelSliceReference(y.grad, ca + cb, ca, cb));
    });
    return y;
  }

  async sigmoidWeightedMse(z: RefValue, target: RefValue, weights: Float32Array): Promise<RefValue> {
    const [, F, T] = z.shape;
    const { loss } = sigmoidWeightedMseReference(z.data, target.data, weights, F, T);
    const y = ReferenceTape.value(Float64Array.of(loss), []);
    this.later(() => {
      const scale = y.grad?.[0] ?? 0;
      // The target (the input spectrogram) takes no gradient: nothing upstream of it is trained.
      const dz = sigmoidWeightedMseBackwardReference(z.data, target.data, weights, F, T);
      this.addGrad(
        z,
        dz.map((v) => v * scale),
      );
    });
    return y;
  }

  async sigmoid(z: RefValue): Promise<RefValue> {
    return ReferenceTape.value(sigmoidReference(z.data), z.shape);
  }
}

/** The baseline's reconstruction in float64 (moving-average batch norm): log magnitudes [B, F, T, 1] -> [B, F, T, 1]. */
export async function baselineReconstructReference(
  w: Weights<BaselineConfig>,
  logMagnitudes: Float32Array,
  pitches: ArrayLike<number>,
): Promise<Float64Array> {
  const c = w.config;
  checkBaselineGeometry(c);
  const B = pitches.length;
  const ref = new BaselineReferenceTape(ReferenceTape.paramsOf(w), pitches, { record: false, batchNorm: 'moving' });
  const x = ReferenceTape.value(logMagnitudes, [B, c.freqBins, c.timeFrames, 1]);
  return Float64Array.from((await baselineReconstruct(ref, c, x)).data);
}
