// The decoder's weights re-laid out for one-sample steps: taps split into past (t-2d, t-d) and
// current (t), residual and skip side by side, the small tensors in one buffer, and the biases
// that are constant over a frame folded into the per-frame conditioning (spec §2.2).
import type { Engine } from '../gpu/engine.js';
import type { Tensor } from '../gpu/tensor.js';
import { decoderLayers, type ModelConfig } from '../model/config.js';
import type { Weights } from '../model/weights.js';

export interface GenWeights {
  wPast: Tensor;   // [L][2R][2R]
  wCur: Tensor;    // [L][R][2R]
  wRs: Tensor;     // [L][R][R+S]
  gw: Tensor;      // small weights, at the offsets below
  /** Everything above in one buffer, for the one-workgroup-per-voice path (small configs only). */
  wall: Tensor | null;
  wallOffsets: { wPast: number; wCur: number; wRs: number; gw: number };
  condB: Tensor;   // [L*2R + S]: cond biases + dilated-conv biases, then cond_out1 + out1 biases
  offsets: { startW: number; startB: number; ssW: number; ssB: number; rsB: number; out1W: number; logitsW: number; logitsB: number };
  release(): void;
}

export function checkGeneratable(c: ModelConfig, maxBinding: number): void {
  const { residual: R, skip: S } = c.decoder;
  if (R % 4 || S % 4) throw new Error(`config ${c.name}: fast generation needs residual and skip widths divisible by 4`);
  if (S > 1024) throw new Error(`config ${c.name}: fast generation supports skip width up to 1024`);
  if (c.numClasses !== 256) throw new Error(`config ${c.name}: fast generation samples 256 classes`);
  const pastBytes = decoderLayers(c) * 4 * R * R * 4;
  if (pastBytes > maxBinding) throw new Error(`config ${c.name}: past-tap weights (${pastBytes} bytes) exceed this adapter's storage binding limit (${maxBinding})`);
}

/** The one-workgroup-per-voice kernel keeps activations in workgroup memory: widths up to 256. */
export function voiceLoopFits(c: ModelConfig): boolean {
  return c.decoder.residual <= 256 && c.decoder.skip <= 256;
}

export function packGenWeights(engine: Engine, w: Weights): GenWeights {
  const c = w.config;
  const L = decoderLayers(c);
  const { residual: R, skip: S } = c.decoder;
  checkGeneratable(c, engine.device.limits.maxStorageBufferBindingSize);
  const wPast = new Float32Array(L * 2 * R * 2 * R);
  const wCur = new Float32Array(L * R * 2 * R);
  const wRs = new Float32Array(L * R * (R + S));
  const rsB = new Float32Array(L * (R + S));
  const condB = new Float32Array(L * 2 * R + S);
  for (let i = 0; i < L; i++) {
    const W = w.get(`dilatedconv_${i + 1}/W`).data; // [1,3,R,2R]
    const tap = R * 2 * R;
    wPast.set(W.subarray(0, 2 * tap), i * 2 * tap); // taps 0 and 1 stacked: rows [0,R) tap 0, [R,2R) tap 1
    wCur.set(W.subarray(2 * tap, 3 * tap), i * tap);
    const res = w.get(`res_${i + 1}/W`).data; // [R][R]
    const skip = w.get(`skip_${i + 1}/W`).data; // [R][S]
    for (let r = 0; r < R; r++) {
      const row = (i * R + r) * (R + S);
      wRs.set(res.subarray(r * R, (r + 1) * R), row);
      wRs.set(skip.subarray(r * S, (r + 1) * S), row + R);
    }
    rsB.set(w.get(`res_${i + 1}/biases`).data, i * (R + S));
    rsB.set(w.get(`skip_${i + 1}/biases`).data, i * (R + S) + R);
    const cb = w.get(`cond_map_${i + 1}/biases`).data;
    const db = w.get(`dilatedconv_${i + 1}/biases`).data;
    for (let o = 0; o < 2 * R; o++) condB[i * 2 * R + o] = cb[o] + db[o];
  }
  const cob = w.get('cond_map_out1/biases').data;
  const ob = w.get('out1/biases').data;
  for (let o = 0; o < S; o++) condB[L * 2 * R + o] = cob[o] + ob[o];
  const parts: [string, Float32Array][] = [
    ['startW', w.get('startconv/W').data], ['startB', w.get('startconv/biases').data],
    ['ssW', w.get('skip_start/W').data], ['ssB', w.get('skip_start/biases').data],
    ['rsB', rsB], ['out1W', w.get('out1/W').data],
    ['logitsW', w.get('logits/W').data], ['logitsB', w.get('logits/biases').data],
  ];
  const total = parts.reduce((n, [, a]) => n + a.length, 0);
  const gw = new Float32Array(total);
  const offsets = {} as GenWeights['offsets'];
  let at = 0;
  for (const [k, a] of parts) {
    (offsets as Record<string, number>)[k] = at;
    gw.set(a, at);
    at += a.length;
  }
  let wall: Tensor | null = null;
  const wallOffsets = { wPast: 0, wCur: wPast.length, wRs: wPast.length + wCur.length, gw: wPast.length + wCur.length + wRs.length };
  if (voiceLoopFits(c)) {
    const all = new Float32Array(wallOffsets.gw + gw.length);
    all.set(wPast, wallOffsets.wPast);
    all.set(wCur, wallOffsets.wCur);
    all.set(wRs, wallOffsets.wRs);
    all.set(gw, wallOffsets.gw);
    wall = engine.upload(all, [all.length], 'gen/wall');
  }
  const t = {
    wPast: engine.upload(wPast, [L, 2 * R, 2 * R], 'gen/w_past'),
    wCur: engine.upload(wCur, [L, R, 2 * R], 'gen/w_cur'),
    wRs: engine.upload(wRs, [L, R, R + S], 'gen/w_rs'),
    gw: engine.upload(gw, [total], 'gen/gw'),
    condB: engine.upload(condB, [condB.length], 'gen/cond_b'),
  };
  return { ...t, offsets, wall, wallOffsets, release: () => [...Object.values(t), ...(wall ? [wall] : [])].forEach((x) => x.release()) };
}
