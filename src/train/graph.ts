// The autoencoder's training loss, written once against a small op interface. The GPU tape
// (tape.ts) records WGSL dispatches and their backward kernels; the reference tape
// (reference-tape.ts) computes the same graph in float64 on the host, which is what the gradient
// checks differentiate numerically. Both see the same ops in the same order.
import { decoderLayers, dilation, encoderLayers, PITCH_CLASSES, type ModelConfig } from '../model/config.js';
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

/**
 * Magenta's h512_bo16 training graph (spec 1.4-1.5) on the quantised input x [B, T, 1]:
 * encoder -> 512-sample average pool -> per-layer 1x1 conditioning at frame rate -> causal decoder
 * on the shifted input -> cross-entropy against the input's own classes.
 */
export async function autoencoderLoss<V>(g: GraphOps<V>, c: ModelConfig, x: V): Promise<V> {
  const K = c.filterLength;
  let en = await g.conv(x, 'ae_startconv', { taps: K, mode: 'centred' });
  for (let i = 1; i <= encoderLayers(c); i++) {
    const d = await g.conv(en, `ae_dilatedconv_${i}`, { taps: K, dilation: dilation(i, c.encoder.layersPerStage), mode: 'centred', reluIn: true, reluOut: true });
    en = await g.conv(d, `ae_res_${i}`, { taps: 1, residual: en });
  }
  const z = await g.conv(en, 'ae_bottleneck', { taps: 1 });
  const pooled = await g.avgPool(z, c.hop);
  // The paper's optional pitch conditioning: a one-hot MIDI pitch beside the embedding.
  const emb = c.pitchConditioning ? await g.concatPitch(pooled, PITCH_CLASSES) : pooled;

  let l = await g.conv(x, 'startconv', { taps: K, mode: 'causal-shifted' });
  let s = await g.conv(l, 'skip_start', { taps: 1 });
  const L = decoderLayers(c);
  for (let i = 1; i <= L; i++) {
    const cond = await g.conv(emb, `cond_map_${i}`, { taps: 1 });
    const dz = await g.conv(l, `dilatedconv_${i}`, { taps: K, dilation: dilation(i, c.decoder.layersPerStage), mode: 'causal', frameBias: cond, frameLen: c.hop });
    const gated = await g.gate(dz);
    // The last layer's residual output feeds nothing (res_L gets no gradient, as in Magenta).
    if (i < L) l = await g.conv(gated, `res_${i}`, { taps: 1, residual: l });
    s = await g.conv(gated, `skip_${i}`, { taps: 1, residual: s });
  }
  const condOut = await g.conv(emb, 'cond_map_out1', { taps: 1 });
  const h = await g.conv(s, 'out1', { taps: 1, reluIn: true, frameBias: condOut, frameLen: c.hop });
  const logits = await g.conv(h, 'logits', { taps: 1, reluIn: true });
  return g.crossEntropy(logits);
}
