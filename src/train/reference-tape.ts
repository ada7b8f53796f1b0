// The reference tape: the training graph evaluated eagerly in float64 on the host, with every
// op's backward taken from the op references in src/ops. It is the oracle for the GPU tape and is
// itself checked against central finite differences (test/gradcheck.test.ts). Small configs only.
import { conv1dReference } from '../ops/conv1d.js';
import { conv1dBackwardReference } from '../ops/conv1d-backward.js';
import { gateBackwardReference, gateReference } from '../ops/elementwise.js';
import { avgPoolReference, upsampleNearestReference } from '../ops/frames.js';
import { concatOneHotReference, channelSliceReference } from '../ops/concat.js';
import { logSoftmaxNllBackwardReference, logSoftmaxNllReference } from '../ops/softmax.js';
import type { ConvOp, GraphOps } from './graph.js';

export interface RefValue {
  data: Float64Array;
  shape: number[];
  grad: Float64Array | null;
}

export class ReferenceTape implements GraphOps<RefValue> {
  private readonly backwards: (() => void)[] = [];
  /** Parameter gradients by tensor name, filled by backward(). */
  readonly grads = new Map<string, Float64Array>();

  constructor(
    private readonly params: Map<string, { shape: number[]; data: Float64Array }>,
    private readonly labels: ArrayLike<number>,
    /** MIDI pitch per batch item (pitch-conditioned configs). */
    private readonly pitches: ArrayLike<number> = [],
  ) {}

  static value(data: Float64Array, shape: number[]): RefValue {
    return { data, shape, grad: null };
  }

  private param(name: string): { shape: number[]; data: Float64Array } {
    const p = this.params.get(name);
    if (!p) throw new Error(`reference tape: no parameter ${name}`);
    return p;
  }

  private addGrad(v: RefValue, g: ArrayLike<number>): void {
    if (!v.grad) v.grad = new Float64Array(v.data.length);
    for (let i = 0; i < g.length; i++) v.grad[i] += g[i];
  }

  private addParamGrad(name: string, g: Float64Array): void {
    const cur = this.grads.get(name);
    if (!cur) this.grads.set(name, Float64Array.from(g));
    else for (let i = 0; i < g.length; i++) cur[i] += g[i];
  }

  async conv(x: RefValue, layer: string, o: ConvOp<RefValue>): Promise<RefValue> {
    const W = this.param(`${layer}/W`);
    const b = this.param(`${layer}/biases`);
    const [B, T, cin] = x.shape;
    const cout = W.shape[3];
    const frameLen = o.frameLen ?? 0;
    const data = conv1dReference(x.data, [B, T, cin], W.data, b.data, cout, {
      taps: o.taps, dilation: o.dilation, mode: o.mode, reluIn: o.reluIn, reluOut: o.reluOut,
      residual: o.residual?.data, frameBias: o.frameBias ? { data: o.frameBias.data, stride: cout, offset: 0, frameLen } : undefined,
    });
    const y = ReferenceTape.value(data, [B, T, cout]);
    const s = { B, T, cin, cout, taps: o.taps, dilation: o.dilation ?? 1, mode: o.mode ?? 'causal', reluIn: !!o.reluIn, reluOut: !!o.reluOut } as const;
    this.backwards.push(() => {
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
    this.backwards.push(() => {
      if (y.grad) this.addGrad(x, gateBackwardReference(x.data, y.grad, C));
    });
    return y;
  }

  async avgPool(x: RefValue, window: number): Promise<RefValue> {
    const [B, T, C] = x.shape;
    const y = ReferenceTape.value(avgPoolReference(x.data, [B, T, C], window), [B, T / window, C]);
    this.backwards.push(() => {
      if (y.grad) this.addGrad(x, upsampleNearestReference(y.grad, [B, T / window, C], window, 1 / window));
    });
    return y;
  }

  async concatPitch(x: RefValue, classes: number): Promise<RefValue> {
    const [B, F, C] = x.shape;
    if (this.pitches.length !== B) throw new Error(`reference tape: ${this.pitches.length} pitches for a batch of ${B}`);
    const y = ReferenceTape.value(concatOneHotReference(x.data, [B, F, C], this.pitches, classes), [B, F, C + classes]);
    this.backwards.push(() => {
      if (y.grad) this.addGrad(x, channelSliceReference(y.grad, C + classes, 0, C));
    });
    return y;
  }

  async crossEntropy(logits: RefValue): Promise<RefValue> {
    const classes = logits.shape[logits.shape.length - 1];
    const { logp, nll } = logSoftmaxNllReference(logits.data, classes, this.labels);
    const loss = nll.reduce((a, b) => a + b, 0) / nll.length;
    const y = ReferenceTape.value(Float64Array.of(loss), []);
    this.backwards.push(() => {
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
