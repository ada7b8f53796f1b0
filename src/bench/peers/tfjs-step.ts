// The Fast WaveNet step written in tfjs-core ops, shared by the tfjs-webgpu and tfjs-wasm peers
// (the backend is chosen by the caller before this runs). Written as a tfjs user would: tensors
// are immutable, so a layer's dilation queue is a ring of tensor handles (x(t-d) and x(t-2d) are
// earlier steps' layer inputs, kept, never copied); `tidy` frees each step's temporaries; fused
// matMul adds the bias (and the per-frame conditioning) in the product's own program; the sampled
// class stays on the device and feeds the next step; classes are read back in chunks, without
// blocking the steps queued behind them.
import type * as tfjs from '@tensorflow/tfjs-core';
import type { Weights } from '../../model/weights.js';
import {
  CLASS_INPUT,
  checkRun,
  type PeerRunOptions,
  type PeerRunResult,
  stepWeights,
  uniformsBlock,
} from './common.js';

export type Tf = typeof tfjs;

/**
 * Steps per read-back of classes (and logits, when recorded), and at most one chunk's read
 * outstanding: tfjs queues work as fast as JS runs, and with the adapter further and further
 * behind, Dawn's staging for the per-op uniform writes grew by one memory mapping per op until
 * the process passed Linux's 65,530 mappings and lavapipe crashed (SIGSEGV after ~63,000 ops,
 * 450 steps of the tiny model); waiting on the previous chunk keeps the backlog to two chunks.
 */
const CHUNK = 64;

export interface TfjsStepper {
  run(o: PeerRunOptions): Promise<PeerRunResult>;
  dispose(): void;
}

/**
 * `rowBias`: the backend's fused matMul takes a [B, N] bias (webgpu does; wasm takes only a
 * [N] one, so there the per-voice conditioning is a separate add).
 */
export function tfjsStepper(tf: Tf, weights: Weights, opts: { rowBias: boolean }): TfjsStepper {
  const sw = stepWeights(weights);
  const { L, R, S, stride, config: c } = sw;
  // Weights uploaded once; per layer the three taps as one [3R, 2R] matrix, residual|skip as one [R, R+S].
  const w = tf.tidy(() => ({
    dil: sw.dil.map((d) => tf.tensor2d(d, [3 * R, 2 * R])),
    // The last layer's residual output feeds nothing (Magenta's res_30): its skip columns only.
    rs: sw.resSkip.map((m, i) =>
      i === L - 1 ? tf.slice(tf.tensor2d(m, [R, R + S]), [0, R], [R, S]) : tf.tensor2d(m, [R, R + S]),
    ),
    rsB: sw.resSkipB.map((b, i) => (i === L - 1 ? tf.tensor1d(b.subarray(R)) : tf.tensor1d(b))),
    condW: tf.tensor2d(sw.condW, [sw.E, stride]),
    condB: tf.tensor1d(sw.condB),
    startW: tf.tensor2d(sw.startW, [3, R]),
    startB: tf.tensor1d(sw.startB),
    skipStartW: tf.tensor2d(sw.skipStartW, [R, S]),
    skipStartB: tf.tensor1d(sw.skipStartB),
    out1W: tf.tensor2d(sw.out1W, [S, S]),
    logitsW: tf.tensor2d(sw.logitsW, [S, 256]),
    logitsB: tf.tensor1d(sw.logitsB),
    classInput: tf.tensor1d(CLASS_INPUT),
    // (an int32 bound: a plain 255 would promote the class sums to float)
    lastClass: tf.scalar(255, 'int32'),
    upper: tf.tensor2d(
      Float32Array.from({ length: 256 * 256 }, (_, i) => (i >> 8 <= (i & 255) ? 1 : 0)),
      [256, 256],
    ),
  }));
  const all = (): tfjs.Tensor[] => Object.values(w).flat() as tfjs.Tensor[];

  return {
    dispose() {
      tf.dispose(all());
    },
    async run(o: PeerRunOptions): Promise<PeerRunResult> {
      const rowBias = opts.rowBias;
      const E = checkRun(c, o);
      const { B, steps, frames } = o;
      const seed = o.seed ?? 0;
      const held: tfjs.Tensor[] = []; // freed at the end whatever happens
      const keep = <T extends tfjs.Tensor>(t: T): T => {
        held.push(t);
        return t;
      };
      const t0 = performance.now();
      try {
        // Every frame's conditioning of every layer in one product, once per note: [B, F, stride].
        const cond = keep(
          tf.tidy(() =>
            tf.reshape(tf.add(tf.matMul(tf.tensor2d(o.condInput, [B * frames, E]), w.condW), w.condB), [
              B,
              frames,
              stride,
            ]),
          ),
        );
        const zerosR = keep(tf.zeros([B, R]) as tfjs.Tensor2D);
        const zeros1 = keep(tf.zeros([B, 1]) as tfjs.Tensor2D);
        // Ring of tensor handles per layer: slot t mod 2d holds x(t-2d) until step t replaces it.
        const rings: (tfjs.Tensor | null)[][] = sw.dilations.map((d) => Array(2 * d).fill(null));
        let in2: tfjs.Tensor2D = zeros1;
        let in1: tfjs.Tensor2D = zeros1;
        let x: tfjs.Tensor2D = zeros1;
        let frameCond: tfjs.Tensor2D[] = [];
        let frame = -1;
        const reads: Promise<void>[] = [];
        const classes = Array.from({ length: B }, () => new Uint32Array(steps));
        const logitsOut = o.recordLogits ? Array.from({ length: B }, () => new Float32Array(steps * 256)) : undefined;
        let uni: tfjs.Tensor2D | null = null;
        let teach: tfjs.Tensor2D | null = null;
        let chunkK: tfjs.Tensor1D[] = [];
        let chunkLogits: tfjs.Tensor2D[] = [];
        let chunkStart = 0;
        const flush = (end: number) => {
          // Stack this chunk's classes (and logits) on the device and read them back asynchronously.
          const s0 = chunkStart;
          const n = end - s0;
          const ks = tf.stack(chunkK) as tfjs.Tensor2D; // [n, B]
          tf.dispose(chunkK);
          chunkK = [];
          const ls = logitsOut ? (tf.stack(chunkLogits) as tfjs.Tensor3D) : null; // [n, B, 256]
          tf.dispose(chunkLogits);
          chunkLogits = [];
          reads.push(
            (async () => {
              const kv = await ks.data();
              ks.dispose();
              for (let s = 0; s < n; s++) for (let b = 0; b < B; b++) classes[b][s0 + s] = kv[s * B + b];
              if (ls && logitsOut) {
                const lv = await ls.data();
                ls.dispose();
                for (let s = 0; s < n; s++)
                  for (let b = 0; b < B; b++)
                    logitsOut[b].set(lv.subarray((s * B + b) * 256, (s * B + b + 1) * 256), (s0 + s) * 256);
              }
            })(),
          );
          chunkStart = end;
        };
        for (let t = 0; t < steps; t++) {
          if (t % CHUNK === 0) {
            // Uniforms of the next CHUNK steps (our generator's stream), or the teacher's inputs, in one upload.
            const n = Math.min(CHUNK, steps - t);
            tf.dispose([uni, teach].filter((v): v is tfjs.Tensor2D => v !== null));
            uni = tf.tensor2d(uniformsBlock(seed, B, t, n), [n, B]);
            if (o.teacher) {
              const tx = new Float32Array(n * B);
              for (let s = 0; s < n; s++) for (let b = 0; b < B; b++) tx[s * B + b] = CLASS_INPUT[o.teacher[b][t + s]];
              teach = tf.tensor2d(tx, [n, B]);
            }
          }
          const f = Math.floor(t / c.hop);
          if (f !== frame) {
            frame = f;
            tf.dispose(frameCond);
            frameCond = tf.tidy(() => {
              const all = tf.reshape(tf.slice(cond, [0, f, 0], [B, 1, stride]), [B, stride]);
              return [
                ...sw.dilations.map((_, i) => tf.slice(all, [0, i * 2 * R], [B, 2 * R])),
                tf.slice(all, [0, L * 2 * R], [B, S]),
              ];
            }) as tfjs.Tensor2D[];
          }
          const ts = t % CHUNK;
          const u = uni!;
          const tch = teach;
          const step = tf.tidy(() => {
            let l: tfjs.Tensor = tf.fused.matMul({ a: tf.concat([in2, in1, x], 1), b: w.startW, bias: w.startB });
            let s: tfjs.Tensor = tf.fused.matMul({ a: l as tfjs.Tensor2D, b: w.skipStartW, bias: w.skipStartB });
            for (let i = 0; i < L; i++) {
              const d = sw.dilations[i];
              const ring = rings[i];
              const old = ring[t % (2 * d)];
              const x1 = ring[(t + d) % (2 * d)] ?? zerosR;
              const taps = tf.concat([old ?? zerosR, x1, l] as tfjs.Tensor2D[], 1);
              const a = rowBias
                ? tf.fused.matMul({ a: taps, b: w.dil[i], bias: frameCond[i] })
                : tf.add(tf.matMul(taps, w.dil[i]), frameCond[i]);
              const [sg, th] = tf.split(a, 2, 1);
              const z = tf.mul(tf.sigmoid(sg), tf.tanh(th));
              // x(t-2d) leaves the queue; this step's input takes its slot (tfjs frees the old
              // buffer only after the work already queued on it).
              if (old) old.dispose();
              ring[t % (2 * d)] = tf.keep(l);
              const rs = tf.fused.matMul({ a: z as tfjs.Tensor2D, b: w.rs[i], bias: w.rsB[i] });
              if (i === L - 1) s = tf.add(s, rs);
              else {
                const [r, k] = tf.split(rs, [R, S], 1);
                l = tf.add(l, r);
                s = tf.add(s, k);
              }
            }
            const h = rowBias
              ? tf.fused.matMul({ a: tf.relu(s) as tfjs.Tensor2D, b: w.out1W, bias: frameCond[L], activation: 'relu' })
              : tf.relu(tf.add(tf.matMul(tf.relu(s) as tfjs.Tensor2D, w.out1W), frameCond[L]));
            const logits = tf.fused.matMul({ a: h, b: w.logitsW, bias: w.logitsB }) as tfjs.Tensor2D;
            // Inverse CDF, as our sampler: the first class whose cumulative weight passes u * total.
            const e = tf.exp(tf.sub(logits, tf.max(logits, 1, true)));
            // The running sums as one product with an upper-triangular matrix of ones: one program
            // where tfjs's cumsum runs eight passes (and on lavapipe, after ~500 steps' worth of its
            // bind groups, crashed in Dawn's descriptor-pool allocation).
            const cdf = tf.matMul(e, w.upper);
            const target = tf.mul(tf.slice(cdf, [0, 255], [B, 1]), tf.reshape(tf.slice(u, [ts, 0], [1, B]), [B, 1]));
            const k = tf.minimum(tf.sum(tf.cast(tf.lessEqual(cdf, target), 'int32'), 1), w.lastClass) as tfjs.Tensor1D;
            const next = tch
              ? tf.reshape(tf.slice(tch, [ts, 0], [1, B]), [B, 1])
              : tf.reshape(tf.gather(w.classInput, k), [B, 1]);
            return o.recordLogits ? [k, next, logits] : [k, next];
          }) as tfjs.Tensor[];
          chunkK.push(step[0] as tfjs.Tensor1D);
          if (step[2]) chunkLogits.push(step[2] as tfjs.Tensor2D);
          if (in2 !== zeros1 && in2 !== in1) in2.dispose();
          in2 = in1;
          in1 = x;
          x = step[1] as tfjs.Tensor2D;
          if (ts === CHUNK - 1 || t === steps - 1) {
            flush(t + 1);
          }
          if (reads.length > 1) await reads.shift();
        }
        await Promise.all(reads);
        tf.dispose([uni, teach].filter((v): v is tfjs.Tensor2D => v !== null));
        tf.dispose(frameCond);
        for (const r of rings) tf.dispose(r.filter((v): v is tfjs.Tensor => v !== null));
        for (const v of new Set([in2, in1, x])) if (v !== zeros1) v.dispose();
        return { classes, logits: logitsOut, seconds: (performance.now() - t0) / 1000 };
      } finally {
        tf.dispose(held);
      }
    },
  };
}
