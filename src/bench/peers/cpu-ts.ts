// The CPU peer in plain TypeScript: Float32Array rings of past layer inputs and dot-product
// matvecs over transposed weights, one Node thread. No dependencies, so it always runs.
//
// Against tfjs's wasm backend (XNNPACK, SIMD; in Node 20 tfjs found no usable wasm threads) on
// the same machine (2-core VM, shared and loaded, benchPeers at --seconds 0.032 / 0.5), samples/s
// per voice:
//   h512_bo16 batch 1:  TypeScript 6.1, tfjs-wasm 23.0
//   h512_bo16 batch 16: TypeScript 0.40, tfjs-wasm 6.0
//   h32_pitch (the shipped default model) batch 1: TypeScript 1,510, tfjs-wasm 282 (tfjs's
//   per-op cost, ~300 ops a step, dominates the small products)
// so tfjs-wasm is the CPU peer for the large model and this one for the small configs; both are
// offered (see index.ts) and the table says which ran.
import type { Weights } from '../../model/weights.js';
import { CLASS_INPUT, checkRun, type Peer, type PeerRunOptions, type PeerRunResult, stepWeights } from './common.js';
import { uniform01 } from '../../ops/sample-categorical.js';

/** [K, N] row-major to [N, K]: each output's weights contiguous, for dot products. */
function transpose(w: Float32Array, K: number, N: number): Float32Array {
  const t = new Float32Array(K * N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) t[n * K + k] = w[k * N + n];
  return t;
}

/**
 * out[b, n] = bias[b, n] + sum_k x[b, k] * Wt[n, k] for n in [n0, N). Outputs outer and voices
 * inner, so one weight row (K floats) serves every voice from the L1 cache; four accumulators so
 * V8 does not serialise on one add.
 */
function gemm(
  x: Float32Array,
  K: number,
  Wt: Float32Array,
  N: number,
  n0: number,
  bias: Float32Array,
  biasStride: number,
  out: Float32Array,
  B: number,
): void {
  for (let n = n0; n < N; n++) {
    const w0 = n * K;
    for (let b = 0; b < B; b++) {
      const x0 = b * K;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let k = 0;
      for (; k + 3 < K; k += 4) {
        a0 += x[x0 + k] * Wt[w0 + k];
        a1 += x[x0 + k + 1] * Wt[w0 + k + 1];
        a2 += x[x0 + k + 2] * Wt[w0 + k + 2];
        a3 += x[x0 + k + 3] * Wt[w0 + k + 3];
      }
      for (; k < K; k++) a0 += x[x0 + k] * Wt[w0 + k];
      out[b * N + n] = bias[b * biasStride + n] + a0 + a1 + a2 + a3;
    }
  }
}

export async function cpuTsPeer(weights: Weights): Promise<Peer> {
  const sw = stepWeights(weights);
  const { L, R, S, stride, config: c } = sw;
  const dilT = sw.dil.map((w) => transpose(w, 3 * R, 2 * R));
  const rsT = sw.resSkip.map((w) => transpose(w, R, R + S));
  const skipStartT = transpose(sw.skipStartW, R, S);
  const out1T = transpose(sw.out1W, S, S);
  const logitsT = transpose(sw.logitsW, S, 256);
  const condT = transpose(sw.condW, sw.E, stride);
  return {
    name: 'cpu-ts',
    detail: 'plain TypeScript Float32Array, 1 thread',
    dispose() {},
    async run(o: PeerRunOptions): Promise<PeerRunResult> {
      const E = checkRun(c, o);
      const { B, steps, frames } = o;
      const seed = o.seed ?? 0;
      const t0 = performance.now();
      // Queues: layer i keeps its last 2d inputs; slot t mod 2d holds x(t-2d) until step t overwrites it.
      const rings = sw.dilations.map((d) => new Float32Array(2 * d * B * R));
      const x3 = new Float32Array(B * 3 * R);
      const l = new Float32Array(B * R);
      const s = new Float32Array(B * S);
      const dAct = new Float32Array(B * 2 * R);
      const z = new Float32Array(B * R);
      const rs = new Float32Array(B * (R + S));
      const h = new Float32Array(B * S);
      const h2 = new Float32Array(B * S);
      const logits = new Float32Array(B * 256);
      const cond = new Float32Array(B * stride);
      const inputs = new Float32Array(B * 3); // the scalar input at t-2, t-1, t per voice
      const classes = Array.from({ length: B }, () => new Uint32Array(steps));
      const rec = o.recordLogits ? Array.from({ length: B }, () => new Float32Array(steps * 256)) : undefined;
      const cdf = new Float64Array(256);
      const condRow = new Float32Array(E);
      let frame = -1;
      for (let t = 0; t < steps; t++) {
        const f = Math.floor(t / c.hop);
        if (f !== frame) {
          // This frame's conditioning of every layer, once for its hop samples.
          frame = f;
          for (let b = 0; b < B; b++) {
            condRow.set(o.condInput.subarray((b * frames + f) * E, (b * frames + f + 1) * E));
            gemm(condRow, E, condT, stride, 0, sw.condB, 0, cond.subarray(b * stride, (b + 1) * stride), 1);
          }
        }
        for (let b = 0; b < B; b++) {
          const x = inputs[b * 3 + 2];
          for (let r = 0; r < R; r++)
            l[b * R + r] =
              sw.startB[r] +
              inputs[b * 3] * sw.startW[r] +
              inputs[b * 3 + 1] * sw.startW[R + r] +
              x * sw.startW[2 * R + r];
        }
        gemm(l, R, skipStartT, S, 0, sw.skipStartB, 0, s, B);
        for (let i = 0; i < L; i++) {
          const d = sw.dilations[i];
          const ring = rings[i];
          const slot2 = (t % (2 * d)) * B * R; // x(t-2d), zeros before t = 2d
          const slot1 = ((t + d) % (2 * d)) * B * R; // x(t-d)
          for (let b = 0; b < B; b++) {
            x3.set(ring.subarray(slot2 + b * R, slot2 + (b + 1) * R), b * 3 * R);
            x3.set(ring.subarray(slot1 + b * R, slot1 + (b + 1) * R), b * 3 * R + R);
            x3.set(l.subarray(b * R, (b + 1) * R), b * 3 * R + 2 * R);
          }
          gemm(x3, 3 * R, dilT[i], 2 * R, 0, cond.subarray(i * 2 * R), stride, dAct, B);
          for (let b = 0; b < B; b++)
            for (let r = 0; r < R; r++) {
              const g = dAct[b * 2 * R + r];
              z[b * R + r] = Math.tanh(dAct[b * 2 * R + R + r]) / (1 + Math.exp(-g));
            }
          ring.set(l, slot2);
          // The last layer's residual output feeds nothing: only its skip columns are computed.
          const last = i === L - 1;
          const rb = sw.resSkipB[i];
          gemm(z, R, rsT[i], R + S, last ? R : 0, rb, 0, rs, B);
          for (let b = 0; b < B; b++) {
            if (!last) for (let r = 0; r < R; r++) l[b * R + r] += rs[b * (R + S) + r];
            for (let k = 0; k < S; k++) s[b * S + k] += rs[b * (R + S) + R + k];
          }
        }
        for (let k = 0; k < B * S; k++) h[k] = Math.max(s[k], 0);
        gemm(h, S, out1T, S, 0, cond.subarray(L * 2 * R), stride, h2, B);
        for (let k = 0; k < B * S; k++) if (h2[k] < 0) h2[k] = 0;
        gemm(h2, S, logitsT, 256, 0, sw.logitsB, 0, logits, B);
        for (let b = 0; b < B; b++) {
          const row = logits.subarray(b * 256, (b + 1) * 256);
          rec?.[b].set(row, t * 256);
          let mx = -Infinity;
          for (let k = 0; k < 256; k++) mx = Math.max(mx, row[k]);
          let acc = 0;
          for (let k = 0; k < 256; k++) cdf[k] = acc += Math.exp(row[k] - mx);
          const target = uniform01(seed, b, t) * acc;
          let k = 0;
          while (k < 255 && cdf[k] <= target) k++;
          classes[b][t] = k;
          const fed = o.teacher ? o.teacher[b][t] : k;
          inputs[b * 3] = inputs[b * 3 + 1];
          inputs[b * 3 + 1] = inputs[b * 3 + 2];
          inputs[b * 3 + 2] = CLASS_INPUT[fed];
        }
        // Let the event loop breathe (timers, a test runner's messages) on long runs.
        if ((t & 63) === 63) await new Promise((r) => setImmediate(r));
      }
      return { classes, logits: rec, seconds: (performance.now() - t0) / 1000 };
    },
  };
}
