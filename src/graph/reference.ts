// The float64 reference evaluator: a graph evaluated eagerly on the host with the op references of
// src/ops, recording (unless told not to) how to run each op's backward. It is the oracle of both GPU
// evaluators: the inference plan (encodeReference / teacherForcedLogitsReference below) and the
// training tape, and is itself checked against central finite differences (test/gradcheck.test.ts).
// Float64 arithmetic on float32 or float64 parameters. Every few tens of milliseconds it yields to
// the event loop, so hours of float64 loops never starve a test runner's messages.
import { conv1dReference } from '../ops/conv1d.js';
import { conv1dBackwardReference } from '../ops/conv1d-backward.js';
import { gateBackwardReference, gateReference } from '../ops/gate.js';
import { avgPoolReference } from '../ops/avg-pool.js';
import { upsampleNearestReference } from '../ops/upsample-nearest.js';
import { concatOneHotBackwardReference, concatOneHotReference } from '../ops/concat-one-hot.js';
import { logSoftmaxNllBackwardReference, logSoftmaxNllReference } from '../ops/log-softmax-nll.js';
import type { Arr } from '../ops/common.js';
import { muLawQuantizeArray } from '../ops/mu-law.js';
import type { AnyConfig, Weights } from '../model/weights.js';
import type { ConvOp, GraphOps } from './ops.js';
import { decoder, encoder } from './wavenet.js';

export interface RefValue {
  data: Arr;
  shape: number[];
  grad: Float64Array | null;
}

export interface RefParam {
  shape: number[];
  data: Arr;
}

export interface ReferenceOptions {
  /** Record each op's backward (default true); inference references turn it off. */
  record?: boolean;
}

/** Time between yields to the event loop, in milliseconds. */
const YIELD_EVERY_MS = 50;

export class ReferenceTape implements GraphOps<RefValue> {
  private readonly backwards: (() => void)[] = [];
  /** Parameter gradients by tensor name, filled by backward(). */
  readonly grads: Map<string, Float64Array> = new Map();
  private readonly record: boolean;
  private lastYield = performance.now();

  constructor(
    private readonly params: Map<string, RefParam>,
    private readonly labels: ArrayLike<number>,
    /** MIDI pitch per batch item (pitch-conditioned configs). */
    protected readonly pitches: ArrayLike<number> = [],
    o: ReferenceOptions = {},
  ) {
    this.record = o.record ?? true;
  }

  /** Parameters by name from a weights container (float32, read as float64). */
  static paramsOf(w: Weights<AnyConfig>): Map<string, RefParam> {
    return new Map([...w.tensors].map(([name, t]) => [name, { shape: t.shape, data: t.data }]));
  }

  static value(data: Arr, shape: number[]): RefValue {
    return { data, shape, grad: null };
  }

  /** Lets pending events run when the host has been computing for a while (setImmediate where there is one). */
  protected async breathe(): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield < YIELD_EVERY_MS) return;
    await new Promise<void>((resolve) =>
      typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
    );
    this.lastYield = performance.now();
  }

  protected later(backward: () => void): void {
    if (this.record) this.backwards.push(backward);
  }

  protected param(name: string): RefParam {
    const p = this.params.get(name);
    if (!p) throw new Error(`reference tape: no parameter ${name}`);
    return p;
  }

  protected addGrad(v: RefValue, g: ArrayLike<number>): void {
    if (!v.grad) v.grad = new Float64Array(v.data.length);
    for (let i = 0; i < g.length; i++) v.grad[i] += g[i];
  }

  protected addParamGrad(name: string, g: Float64Array): void {
    const cur = this.grads.get(name);
    if (!cur) this.grads.set(name, Float64Array.from(g));
    else for (let i = 0; i < g.length; i++) cur[i] += g[i];
  }

  async conv(x: RefValue, layer: string, o: ConvOp<RefValue>): Promise<RefValue> {
    await this.breathe();
    const W = this.param(`${layer}/W`);
    const b = this.param(`${layer}/biases`);
    const [B, T, cin] = x.shape;
    const cout = W.shape[3];
    const frameLen = o.frameLen ?? 0;
    const data = conv1dReference(x.data, [B, T, cin], W.data, b.data, cout, {
      taps: o.taps,
      dilation: o.dilation,
      mode: o.mode,
      reluIn: o.reluIn,
      reluOut: o.reluOut,
      residual: o.residual?.data,
      frameBias: o.frameBias ? { data: o.frameBias.data, stride: cout, offset: 0, frameLen } : undefined,
    });
    const y = ReferenceTape.value(data, [B, T, cout]);
    const s = {
      B,
      T,
      cin,
      cout,
      taps: o.taps,
      dilation: o.dilation ?? 1,
      mode: o.mode ?? 'causal',
      reluIn: !!o.reluIn,
      reluOut: !!o.reluOut,
    } as const;
    this.later(() => {
      if (!y.grad) return;
      const r = conv1dBackwardReference(s, x.data, W.data, data, y.grad, frameLen);
      this.addGrad(x, r.dx);
      this.addParamGrad(`${layer}/W`, r.dW);
      this.addParamGrad(`${layer}/biases`, r.dbias);
      if (o.residual) this.addGrad(o.residual, r.g);
      if (o.frameBias) this.addGrad(o.frameBias, r.dframe);
    });
    return y;
  }

  async gate(x: RefValue): Promise<RefValue> {
    const C = x.shape[x.shape.length - 1] / 2;
    const y = ReferenceTape.value(gateReference(x.data, C), [...x.shape.slice(0, -1), C]);
    this.later(() => {
      if (y.grad) this.addGrad(x, gateBackwardReference(x.data, y.grad, C));
    });
    return y;
  }

  async avgPool(x: RefValue, window: number): Promise<RefValue> {
    const [B, T, C] = x.shape;
    const y = ReferenceTape.value(avgPoolReference(x.data, [B, T, C], window), [B, T / window, C]);
    this.later(() => {
      if (y.grad) this.addGrad(x, upsampleNearestReference(y.grad, [B, T / window, C], window, 1 / window));
    });
    return y;
  }

  async concatPitch(x: RefValue, classes: number): Promise<RefValue> {
    const [B, F, C] = x.shape;
    if (this.pitches.length !== B)
      throw new Error(`reference tape: ${this.pitches.length} pitches for a batch of ${B}`);
    const y = ReferenceTape.value(concatOneHotReference(x.data, [B, F, C], this.pitches, classes), [B, F, C + classes]);
    this.later(() => {
      if (y.grad) this.addGrad(x, concatOneHotBackwardReference(y.grad, [B, F, C], this.pitches, classes));
    });
    return y;
  }

  async crossEntropy(logits: RefValue): Promise<RefValue> {
    const classes = logits.shape[logits.shape.length - 1];
    const { logp, nll } = logSoftmaxNllReference(logits.data, classes, this.labels);
    const loss = nll.reduce((a, b) => a + b, 0) / nll.length;
    const y = ReferenceTape.value(Float64Array.of(loss), []);
    this.later(() => {
      this.addGrad(logits, logSoftmaxNllBackwardReference(logp, classes, this.labels, (y.grad?.[0] ?? 0) / nll.length));
    });
    return y;
  }

  /** Runs every recorded backward in reverse, seeding d loss / d loss = 1. */
  backward(loss: RefValue): void {
    loss.grad = Float64Array.of(1);
    for (let i = this.backwards.length - 1; i >= 0; i--) this.backwards[i]();
  }
}

/** The encoder in float64: audio [B, T] (T a multiple of hop) -> embedding [B, T/hop, bottleneck]. */
export async function encodeReference(w: Weights, audio: Float32Array, B: number): Promise<Float64Array> {
  const c = w.config;
  const T = audio.length / B;
  const ref = new ReferenceTape(ReferenceTape.paramsOf(w), [], [], { record: false });
  const x = ReferenceTape.value(muLawQuantizeArray(audio).scaled, [B, T, 1]);
  return Float64Array.from((await encoder(ref, c, x)).data);
}

/** The teacher-forced decoder in float64: audio [B, T] + embedding [B, T/hop, bottleneck] -> logits [B, T, classes]. */
export async function teacherForcedLogitsReference(
  w: Weights,
  audio: Float32Array,
  embedding: Arr,
  B: number,
  pitch?: ArrayLike<number>,
): Promise<Float64Array> {
  const c = w.config;
  const T = audio.length / B;
  const ref = new ReferenceTape(ReferenceTape.paramsOf(w), [], pitch ?? [], { record: false });
  const x = ReferenceTape.value(muLawQuantizeArray(audio).scaled, [B, T, 1]);
  const emb = ReferenceTape.value(embedding, [B, T / c.hop, c.bottleneck]);
  return Float64Array.from((await decoder(ref, c, x, emb)).data);
}
