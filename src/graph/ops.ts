// The op interface every network is written against. A graph is a plain async function over these
// ops; an evaluator gives them meaning: the GPU inference plan (gpu-plan.ts), the GPU training tape
// (gpu-tape.ts) and the float64 reference (reference.ts). A new network (the spectrogram baseline)
// joins by adding the ops it needs here and to the three evaluators.
import type { TapMode } from '../ops/conv1d.js';

export interface ConvOp<V> {
  taps: number;
  dilation?: number;
  mode?: TapMode;
  reluIn?: boolean;
  reluOut?: boolean;
  /** y = residual + conv(x) (the residual stream; the old value stays for the backward pass). */
  residual?: V;
  /** A per-frame bias [B, T/frameLen, Cout] added to every sample of its frame (the conditioning). */
  frameBias?: V;
  frameLen?: number;
}

export interface GraphOps<V> {
  /** y = conv(x) with the weights `${layer}/W` and `${layer}/biases`. */
  conv(x: V, layer: string, o: ConvOp<V>): Promise<V>;
  /** sigmoid(first half) * tanh(second half) of the last axis. */
  gate(x: V): Promise<V>;
  /** Mean over windows of `window` samples. */
  avgPool(x: V, window: number): Promise<V>;
  /** [B, F, C] -> [B, F, C + classes]: each batch item's one-hot pitch appended to every frame. */
  concatPitch(x: V, classes: number): Promise<V>;
  /** Mean sparse softmax cross-entropy of the logits against the labels: a scalar. */
  crossEntropy(logits: V): Promise<V>;
}

/** A 2-D convolution of the spectrogram baseline (NHWC; TensorFlow SAME padding). */
export interface Conv2dOp {
  kernel: [number, number];
  stride: [number, number];
  channels: number;
  /** TF conv2d_transpose (weights [kh, kw, out, in], output size = input size * stride). */
  transpose?: boolean;
  /** Adds `${layer}/biases` (the baseline's convs have none: batch norm follows them). */
  bias?: boolean;
}

/** The ops the spectrogram baseline (graph/baseline.ts) is written against; values are [B, H, W, C]. */
export interface BaselineOps<V> {
  /** y = conv2d(x) with the weights `${layer}/weights`. */
  conv2d(x: V, layer: string, o: Conv2dOp): Promise<V>;
  /** Batch norm with `${scope}/BatchNorm/beta` (batch statistics when training, the moving averages otherwise). */
  batchNorm(x: V, scope: string): Promise<V>;
  leakyRelu(x: V, alpha: number): Promise<V>;
  /** [B, 1, 1, dims]: each batch item's pitch row of `${layer}/embedding_weights`. */
  pitchEmbedding(layer: string, dims: number): Promise<V>;
  /** [..., Ca] and [..., Cb] -> [..., Ca + Cb]. */
  concatChannels(a: V, b: V): Promise<V>;
  /** mean over every cell of weights[f] * (target - sigmoid(z))^2, f the frequency row: a scalar. */
  sigmoidWeightedMse(z: V, target: V, weights: Float32Array): Promise<V>;
  sigmoid(z: V): Promise<V>;
}
