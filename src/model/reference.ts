// The whole model in plain TypeScript (float64 arithmetic on the float32 weights): the oracle the
// GPU model is tested against. It follows Magenta's h512_bo16.py line by line; see spec §1.4-1.6.
import { conv1dReference } from '../ops/conv1d.js';
import { avgPoolReference, upsampleNearestReference } from '../ops/frames.js';
import { gateReference } from '../ops/elementwise.js';
import { muLawQuantizeArray } from '../ops/mulaw.js';
import { conditioningWidth, decoderLayers, dilation, encoderLayers, type ModelConfig } from './config.js';
import type { Weights } from './weights.js';

function convRef(w: Weights, name: string, x: Float64Array | Float32Array, B: number, T: number, o: { dilation?: number; mode?: 'causal' | 'centred' | 'causal-shifted'; reluIn?: boolean; reluOut?: boolean }): Float64Array {
  const W = w.get(`${name}/W`);
  const [, K, cin, cout] = W.shape;
  return conv1dReference(x, [B, T, cin], W.data, w.get(`${name}/biases`).data, cout, { taps: K, ...o });
}

function addInto(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}

/** audio [B, T] (T a multiple of hop) -> embedding [B, T/hop, bottleneck]. */
export function encodeReference(w: Weights, audio: Float32Array, B: number): Float64Array {
  const c = w.config;
  const T = audio.length / B;
  const x = muLawQuantizeArray(audio).scaled;
  let en = convRef(w, 'ae_startconv', x, B, T, { mode: 'centred' });
  for (let i = 1; i <= encoderLayers(c); i++) {
    const d = convRef(w, `ae_dilatedconv_${i}`, en, B, T, { mode: 'centred', dilation: dilation(i, c.encoder.layersPerStage), reluIn: true, reluOut: true });
    addInto(en, convRef(w, `ae_res_${i}`, d, B, T, {}));
  }
  const z = convRef(w, 'ae_bottleneck', en, B, T, {});
  return avgPoolReference(z, [B, T, c.bottleneck], c.hop);
}

/** Concatenates the one-hot pitch to every frame where the config asks for it: [B, F, E]. */
export function conditioningInput(c: ModelConfig, embedding: Float32Array | Float64Array, B: number, pitch?: ArrayLike<number>): Float64Array {
  const E = conditioningWidth(c);
  const F = embedding.length / B / c.bottleneck;
  const out = new Float64Array(B * F * E);
  for (let b = 0; b < B; b++) {
    for (let f = 0; f < F; f++) {
      for (let j = 0; j < c.bottleneck; j++) out[(b * F + f) * E + j] = embedding[(b * F + f) * c.bottleneck + j];
      if (c.pitchConditioning) out[(b * F + f) * E + c.bottleneck + pitch![b]] = 1;
    }
  }
  return out;
}

/** Teacher-forced decoder: audio [B, T] + embedding [B, T/hop, bottleneck] -> logits [B, T, classes]. */
export function teacherForcedLogitsReference(w: Weights, audio: Float32Array, embedding: Float32Array | Float64Array, B: number, pitch?: ArrayLike<number>): Float64Array {
  const c = w.config;
  const T = audio.length / B;
  const F = T / c.hop;
  const R = c.decoder.residual;
  const S = c.decoder.skip;
  const cond = conditioningInput(c, embedding, B, pitch);
  const x = muLawQuantizeArray(audio).scaled;
  const l = convRef(w, 'startconv', x, B, T, { mode: 'causal-shifted' });
  const s = convRef(w, 'skip_start', l, B, T, {});
  const L = decoderLayers(c);
  for (let i = 1; i <= L; i++) {
    const d = convRef(w, `dilatedconv_${i}`, l, B, T, { mode: 'causal', dilation: dilation(i, c.decoder.layersPerStage) });
    const cm = convRef(w, `cond_map_${i}`, cond, B, F, {});
    addInto(d, upsampleNearestReference(cm, [B, F, 2 * R], c.hop));
    const g = gateReference(d, R);
    if (i < L) addInto(l, convRef(w, `res_${i}`, g, B, T, {})); // the last residual feeds nothing
    addInto(s, convRef(w, `skip_${i}`, g, B, T, {}));
  }
  const h = convRef(w, 'out1', s, B, T, { reluIn: true });
  const co = convRef(w, 'cond_map_out1', cond, B, F, {});
  addInto(h, upsampleNearestReference(co, [B, F, S], c.hop));
  return convRef(w, 'logits', h, B, T, { reluIn: true });
}
