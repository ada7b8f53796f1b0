// The spectrogram baseline autoencoder (spec section 4), written once against the op interface:
// the float64 reference, the GPU training tape and the GPU inference run these functions, so the
// architecture lives in this file only. Input: Magenta's log magnitudes in [0, 1], [B, freq, time, 1].
import { type BaselineConfig, LEAKY_RELU_ALPHA } from '../model/baseline-config.js';
import type { Conv2dShape } from '../ops/conv2d.js';
import type { BaselineOps, Conv2dOp } from './ops.js';

/** Spectrogram [B, F, T, 1] -> code [B, 1, 1, latent]. */
export async function baselineEncoder<V>(g: BaselineOps<V>, c: BaselineConfig, x: V): Promise<V> {
  let h = x;
  for (const l of c.encoder) {
    const scope = `encoder/${l.name}`;
    h = await g.conv2d(h, scope, { kernel: l.kernel, stride: l.stride, channels: l.channels });
    h = await g.leakyRelu(await g.batchNorm(h, scope), LEAKY_RELU_ALPHA);
  }
  // The code: a 1x1 conv and batch norm, no activation.
  const z = await g.conv2d(h, 'encoder/z', { kernel: [1, 1], stride: [1, 1], channels: c.latent });
  return g.batchNorm(z, 'encoder/z');
}

/** Code [B, 1, 1, latent] (+ the batch's pitches) -> logits of the log magnitudes [B, F, T, 1] (sigmoid outside). */
export async function baselineDecoder<V>(g: BaselineOps<V>, c: BaselineConfig, z: V): Promise<V> {
  const pitch = await g.pitchEmbedding('decoder/PitchEmbedding', c.pitchDims);
  let h = await g.concatChannels(z, pitch);
  for (const l of c.decoder) {
    const scope = `decoder/${l.name}`;
    h = await g.conv2d(h, scope, { kernel: l.kernel, stride: l.stride, channels: l.channels, transpose: true });
    h = await g.leakyRelu(await g.batchNorm(h, scope), LEAKY_RELU_ALPHA);
  }
  return g.conv2d(h, 'decoder/mag', { kernel: [1, 1], stride: [1, 1], channels: 1, bias: true });
}

/** The training loss: the frequency-weighted MSE of the decoded log magnitudes against the input. */
export async function baselineLoss<V>(g: BaselineOps<V>, c: BaselineConfig, x: V, weights: Float32Array): Promise<V> {
  return g.sigmoidWeightedMse(await baselineDecoder(g, c, await baselineEncoder(g, c, x)), x, weights);
}

/** Reconstruction: the decoded log magnitudes in [0, 1]. */
export async function baselineReconstruct<V>(g: BaselineOps<V>, c: BaselineConfig, x: V): Promise<V> {
  return g.sigmoid(await baselineDecoder(g, c, await baselineEncoder(g, c, x)));
}

/** The underlying conv of a conv2d or conv2d_transpose op: x [B,H,W,cin] -> [B,OH,OW,cout] (transposed: the other way). */
export function conv2dShapeOf(inShape: number[], o: Conv2dOp, weightShape: number[]): Conv2dShape {
  const [B, H, W, C] = inShape;
  const [kh, kw] = o.kernel;
  const [sh, sw] = o.stride;
  if (o.transpose) {
    // A transposed conv is the adjoint of the conv from its (larger) output down to its input.
    if (weightShape.join() !== [kh, kw, o.channels, C].join())
      throw new Error(`conv2d_transpose: weights [${weightShape}], expected [${kh},${kw},${o.channels},${C}]`);
    return { B, H: H * sh, W: W * sw, cin: o.channels, cout: C, kh, kw, sh, sw };
  }
  if (weightShape.join() !== [kh, kw, C, o.channels].join())
    throw new Error(`conv2d: weights [${weightShape}], expected [${kh},${kw},${C},${o.channels}]`);
  return { B, H, W, cin: C, cout: o.channels, kh, kw, sh, sw };
}
