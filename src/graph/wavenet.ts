// The NSynth WaveNet autoencoder (Magenta's h512_bo16 and its smaller family; spec 1.4-1.6), written
// once against the op interface. Every evaluator runs these functions: the GPU inference plan
// (encoder, decoder), the GPU training tape and the float64 reference (autoencoderLoss), so the
// architecture lives in this file only. Inputs are mu-law quantised audio scaled to [-1, 1): x [B, T, 1].
import { decoderLayers, dilation, encoderLayers, PITCH_CLASSES, type ModelConfig } from '../model/config.js';
import type { GraphOps } from './ops.js';

/** The non-causal encoder: x [B, T, 1] -> embedding [B, T/hop, bottleneck] (the 512-sample average pool). */
export async function encoder<V>(g: GraphOps<V>, c: ModelConfig, x: V): Promise<V> {
  const K = c.filterLength;
  let en = await g.conv(x, 'ae_startconv', { taps: K, mode: 'centred' });
  for (let i = 1; i <= encoderLayers(c); i++) {
    const d = await g.conv(en, `ae_dilatedconv_${i}`, {
      taps: K,
      dilation: dilation(i, c.encoder.layersPerStage),
      mode: 'centred',
      reluIn: true,
      reluOut: true,
    });
    en = await g.conv(d, `ae_res_${i}`, { taps: 1, residual: en });
  }
  const z = await g.conv(en, 'ae_bottleneck', { taps: 1 });
  return g.avgPool(z, c.hop);
}

/**
 * The causal decoder, teacher-forced: x [B, T, 1] (shifted right inside the start conv) and the
 * embedding [B, T/hop, bottleneck] -> logits [B, T, classes]. Every layer's dilated conv gets its own
 * 1x1 projection of the embedding (with the one-hot pitch where configured) as a per-frame bias.
 */
export async function decoder<V>(g: GraphOps<V>, c: ModelConfig, x: V, embedding: V): Promise<V> {
  const K = c.filterLength;
  // The paper's optional pitch conditioning: a one-hot MIDI pitch beside the embedding.
  const emb = c.pitchConditioning ? await g.concatPitch(embedding, PITCH_CLASSES) : embedding;
  let l = await g.conv(x, 'startconv', { taps: K, mode: 'causal-shifted' });
  let s = await g.conv(l, 'skip_start', { taps: 1 });
  const L = decoderLayers(c);
  for (let i = 1; i <= L; i++) {
    const cond = await g.conv(emb, `cond_map_${i}`, { taps: 1 });
    const dz = await g.conv(l, `dilatedconv_${i}`, {
      taps: K,
      dilation: dilation(i, c.decoder.layersPerStage),
      mode: 'causal',
      frameBias: cond,
      frameLen: c.hop,
    });
    const gated = await g.gate(dz);
    // The last layer's residual output feeds nothing (res_L gets no gradient, as in Magenta).
    if (i < L) l = await g.conv(gated, `res_${i}`, { taps: 1, residual: l });
    s = await g.conv(gated, `skip_${i}`, { taps: 1, residual: s });
  }
  const condOut = await g.conv(emb, 'cond_map_out1', { taps: 1 });
  const h = await g.conv(s, 'out1', { taps: 1, reluIn: true, frameBias: condOut, frameLen: c.hop });
  return g.conv(h, 'logits', { taps: 1, reluIn: true });
}

/**
 * The training loss: the decoder on the encoder's embedding of the same audio, cross-entropy against its
 * classes. `decoderInput` (default x) is what the decoder is teacher-forced with: training with input
 * noise passes a perturbed copy there, while the encoder and the targets keep the clean audio.
 */
export async function autoencoderLoss<V>(g: GraphOps<V>, c: ModelConfig, x: V, decoderInput: V = x): Promise<V> {
  return g.crossEntropy(await autoencoderLogits(g, c, x, decoderInput));
}

/** The loss's logits [B, T, classes]: the decoder teacher-forced with `decoderInput` on x's embedding. */
export async function autoencoderLogits<V>(g: GraphOps<V>, c: ModelConfig, x: V, decoderInput: V = x): Promise<V> {
  return decoder(g, c, decoderInput, await encoder(g, c, x));
}
