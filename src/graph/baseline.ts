// The spectrogram baseline autoencoder (spec section 4), written once against the op interface:
// the float64 reference, the GPU training tape and the GPU inference run these functions, so the
// architecture lives in this file only. Input: Magenta's log magnitudes in [0, 1], [B, freq, time, 1].
import { type BaselineConfig, LEAKY_RELU_ALPHA } from '../model/baseline-config.js';
import type { BaselineOps } from './ops.js';

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
