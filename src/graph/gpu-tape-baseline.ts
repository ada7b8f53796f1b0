// The GPU tape extended with the spectrogram baseline's ops (2-D convs and transposed convs, batch
// norm, leaky ReLU, pitch embedding, channel concatenation, the sigmoid weighted MSE), so the
// baseline trains and runs through the same define-by-run machinery as the WaveNet: the graph in
// graph/baseline.ts prepares the forward list and records each op's backward.
//
// Batch norm: in 'batch' mode (training) each op computes its batch statistics and queues the
// update of its moving averages in `movingUpdates`, which the training step runs and evaluation
// does not; in 'moving' mode (inference) it uses the stored moving averages.
import type { Engine } from '../gpu/engine.js';
import { destroyDispatches, type Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import {
  BATCH_NORM_EPS,
  batchNormBackward,
  batchNormBackwardScratch,
  batchNormInfer,
  batchNormMovingUpdate,
  batchNormTrain,
} from '../ops/batch-norm.js';
import { channelPlace } from '../ops/channel-place.js';
import { channelSlice } from '../ops/concat-one-hot.js';
import {
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dGeometry,
  conv2dWeightGradScratch,
} from '../ops/conv2d.js';
import { leakyRelu, leakyReluBackward } from '../ops/leaky-relu.js';
import { pitchEmbedding, pitchEmbeddingBackward } from '../ops/pitch-embedding.js';
import { sigmoid } from '../ops/sigmoid.js';
import {
  sigmoidWeightedMse,
  sigmoidWeightedMseBackward,
  sigmoidWeightedMseScratch,
} from '../ops/sigmoid-weighted-mse.js';
import { type GpuValue, type ParamSlot, Tape } from './gpu-tape.js';
import type { BaselineOps, Conv2dOp } from './ops.js';
import { conv2dShapeOf } from './baseline.js';

export class BaselineTape extends Tape implements BaselineOps<GpuValue> {
  /** Moving-average updates of every batch norm ('batch' mode): part of a training step, not of evaluation. */
  readonly movingUpdates: Dispatch[] = [];
  /** sigmoid(z) of the last sigmoidWeightedMse (the reconstruction the loss measured). */
  prediction: Tensor | null = null;
  private readonly bnMode: 'batch' | 'moving';

  constructor(
    engine: Engine,
    params: (name: string) => ParamSlot,
    pitches: Tensor,
    o: { batchNorm?: 'batch' | 'moving'; momentum?: number } = {},
  ) {
    // The WaveNet's labels are unused here: a one-element placeholder.
    super(engine, params, engine.tensor([1], 'u32'), pitches);
    this.bnMode = o.batchNorm ?? 'batch';
    this.decay = o.momentum ?? 0.999;
  }

  private readonly decay: number;

  /** Marks a parameter's gradient written; returns whether it had been (so the next write accumulates). */
  private wrote(name: string): boolean {
    const had = this.written.has(name);
    this.written.add(name);
    return had;
  }

  async conv2d(x: GpuValue, layer: string, o: Conv2dOp): Promise<GpuValue> {
    const W = this.params(`${layer}/weights`);
    const bias = o.bias ? this.params(`${layer}/biases`) : null;
    const s = conv2dShapeOf(x.t.shape, o, W.value.shape);
    const { OH, OW } = conv2dGeometry(s);
    let y: GpuValue;
    if (o.transpose) {
      if (OH !== x.t.shape[1] || OW !== x.t.shape[2])
        throw new Error(`${layer}: input [${x.t.shape}] is not ${OH} x ${OW}`);
      if (bias) throw new Error(`${layer}: transposed convs here take no bias (batch norm follows them)`);
      y = this.value([s.B, s.H, s.W, s.cin]);
      this.forward.push(await conv2dBackwardInput(this.engine, s, x.t, W.value, y.t, false));
    } else {
      y = this.value([s.B, OH, OW, s.cout]);
      this.forward.push(await conv2d(this.engine, s, x.t, W.value, bias?.value ?? null, y.t));
    }
    this.scratchFloats = Math.max(this.scratchFloats, conv2dWeightGradScratch(s));
    this.records.push(async () => {
      if (!y.grad) return;
      const g = y.grad;
      const wName = `${layer}/weights`;
      if (o.transpose) {
        // The adjoint of the adjoint: dx is the plain conv of dy; dW pairs dy (the conv's input) with x.
        this.push(await conv2dBackwardWeight(this.engine, s, g, x.t, W.grad, null, this.scratch, this.wrote(wName)));
        await this.contribute(x, async (dst, acc) => conv2d(this.engine, s, g, W.value, null, dst, acc));
      } else {
        const bName = `${layer}/biases`;
        const accumulate = this.wrote(wName);
        if (bias) this.wrote(bName);
        this.push(
          await conv2dBackwardWeight(this.engine, s, x.t, g, W.grad, bias?.grad ?? null, this.scratch, accumulate),
        );
        await this.contribute(x, (dst, acc) => conv2dBackwardInput(this.engine, s, g, W.value, dst, acc));
      }
      this.done(y);
    });
    return y;
  }

  async batchNorm(x: GpuValue, scope: string): Promise<GpuValue> {
    const C = x.t.shape[x.t.shape.length - 1];
    const beta = this.params(`${scope}/BatchNorm/beta`);
    const movingMean = this.params(`${scope}/BatchNorm/moving_mean`);
    const movingVar = this.params(`${scope}/BatchNorm/moving_variance`);
    const y = this.value(x.t.shape);
    if (this.bnMode === 'moving') {
      this.forward.push(
        await batchNormInfer(this.engine, x.t, beta.value, movingMean.value, movingVar.value, y.t, { channels: C }),
      );
      // Inference only: no backward through fixed statistics is needed here.
      this.records.push(async () => {
        if (y.grad) throw new Error(`${scope}: no backward through inference-mode batch norm`);
      });
      return y;
    }
    const mean = this.alloc([C]);
    const invStd = this.alloc([C]);
    this.forward.push(...(await batchNormTrain(this.engine, x.t, beta.value, y.t, mean, invStd, { channels: C })));
    this.movingUpdates.push(
      await batchNormMovingUpdate(this.engine, mean, invStd, movingMean.value, movingVar.value, {
        decay: this.decay,
        eps: BATCH_NORM_EPS,
      }),
    );
    const rows = x.t.numel / C;
    this.scratchFloats = Math.max(this.scratchFloats, batchNormBackwardScratch(C, rows));
    this.records.push(async () => {
      if (!y.grad) return;
      const g = y.grad;
      // A batch norm's input is its conv's output, used by nothing else, and each beta serves one
      // batch norm: both gradients are written here, not accumulated.
      if (x.grad || this.wrote(`${scope}/BatchNorm/beta`))
        throw new Error(`${scope}: batch norm input or beta used twice (not supported)`);
      x.grad = this.alloc(x.t.shape);
      x.ownsGrad = true;
      this.push(
        await batchNormBackward(this.engine, x.t, g, mean, invStd, x.grad, beta.grad, this.scratch!, {
          channels: C,
          accumulate: false,
        }),
      );
      this.done(y);
    });
    return y;
  }

  async leakyRelu(x: GpuValue, alpha: number): Promise<GpuValue> {
    const y = this.value(x.t.shape);
    this.forward.push(await leakyRelu(this.engine, x.t, y.t, alpha));
    this.records.push(async () => {
      if (!y.grad) return;
      const g = y.grad;
      await this.contribute(x, (dst, acc) => leakyReluBackward(this.engine, x.t, g, dst, acc, alpha));
      this.done(y);
    });
    return y;
  }

  async pitchEmbedding(layer: string, dims: number): Promise<GpuValue> {
    if (!this.pitches) throw new Error('BaselineTape: the pitch embedding needs a pitch tensor');
    const table = this.params(`${layer}/embedding_weights`);
    const classes = table.value.shape[0];
    const B = this.pitches.numel;
    const y = this.value([B, 1, 1, dims]);
    const pitches = this.pitches;
    this.forward.push(await pitchEmbedding(this.engine, table.value, pitches, y.t, { classes, dims }));
    this.records.push(async () => {
      if (!y.grad) return;
      const name = `${layer}/embedding_weights`;
      this.push(
        await pitchEmbeddingBackward(this.engine, pitches, y.grad, table.grad, {
          classes,
          dims,
          accumulate: this.wrote(name),
        }),
      );
      this.done(y);
    });
    return y;
  }

  async concatChannels(a: GpuValue, b: GpuValue): Promise<GpuValue> {
    const ca = a.t.shape[a.t.shape.length - 1];
    const cb = b.t.shape[b.t.shape.length - 1];
    const rows = a.t.numel / ca;
    if (b.t.numel / cb !== rows) throw new Error(`concatChannels: [${a.t.shape}] and [${b.t.shape}] differ in rows`);
    const y = this.value([...a.t.shape.slice(0, -1), ca + cb]);
    this.forward.push(
      await channelPlace(this.engine, a.t, y.t, { rows, inChannels: ca, outChannels: ca + cb, offset: 0 }),
      await channelPlace(this.engine, b.t, y.t, { rows, inChannels: cb, outChannels: ca + cb, offset: ca }),
    );
    this.records.push(async () => {
      if (!y.grad) return;
      const g = y.grad;
      await this.contribute(a, (dst, acc) => channelSlice(this.engine, g, 0, dst, acc));
      await this.contribute(b, (dst, acc) => channelSlice(this.engine, g, ca, dst, acc));
      this.done(y);
    });
    return y;
  }

  async sigmoidWeightedMse(z: GpuValue, target: GpuValue, weights: Float32Array): Promise<GpuValue> {
    const [, F, T] = z.t.shape;
    if (weights.length !== F) throw new Error(`sigmoidWeightedMse: ${weights.length} weights for ${F} frequency rows`);
    const w = this.alloc([F]);
    this.engine.write(w, weights);
    const prediction = this.alloc(z.t.shape);
    this.prediction = prediction;
    const scratch = this.alloc([Math.max(1, sigmoidWeightedMseScratch(z.t.numel))]);
    this.forward.push(
      ...(await sigmoidWeightedMse(this.engine, z.t, target.t, w, prediction, this.stats, scratch, { F, T, slot: 0 })),
    );
    const loss: GpuValue = { t: this.stats, requiresGrad: true, grad: null, ownsGrad: false };
    this.records.push(async () => {
      await this.contribute(
        z,
        (dst, acc) =>
          sigmoidWeightedMseBackward(this.engine, z.t, target.t, w, dst, { F, T, scale: 1, accumulate: acc }),
        true,
      );
    });
    return loss;
  }

  override dispose(): void {
    super.dispose();
    destroyDispatches(this.movingUpdates);
    this.labels.release(); // the placeholder made in the constructor
  }

  /** Inference only (training measures its sigmoid inside the loss). */
  async sigmoid(z: GpuValue): Promise<GpuValue> {
    const y = this.value(z.t.shape);
    this.forward.push(await sigmoid(this.engine, z.t, y.t));
    this.records.push(async () => {
      if (y.grad) throw new Error('BaselineTape: no backward through the inference sigmoid');
    });
    return y;
  }
}
