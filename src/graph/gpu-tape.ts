// The GPU training tape: a define-by-run evaluator of a graph (wavenet.ts) over the WGSL kernels of
// src/ops. Running the graph against it prepares the forward dispatches and records, per op, how to prepare
// its backward dispatches; backward() replays the records in reverse. Both lists are built once
// and replayed every step (only the input audio and the optimiser's numbers change), so a step is
// one submit with no host work per op.
//
// Gradients: a value's gradient is allocated by its first contribution, which writes it; later
// contributions accumulate (through the kernel's accumulate flag, or a temporary plus axpy).
// A residual input takes its output's gradient as is, sharing the buffer. Once the op that made a
// value has run its backward, the value's gradient is dead and its buffer goes back to the tape's
// own pool for the next gradient of that size: safe, because dispatches in one pass run in order.
import type { Engine } from '../gpu/engine.js';
import { destroyDispatches, type Dispatch } from '../gpu/registry.js';
import { BufferPool, Tensor, numel } from '../gpu/tensor.js';
import { conv1d } from '../ops/conv1d.js';
import {
  conv1dBackwardInput,
  conv1dBackwardWeight,
  weightGradScratch,
  type ConvShape,
} from '../ops/conv1d-backward.js';
import { gate, gateBackward } from '../ops/gate.js';
import { axpy } from '../ops/axpy.js';
import { reluBackward } from '../ops/relu.js';
import { avgPool } from '../ops/avg-pool.js';
import { upsampleNearest } from '../ops/upsample-nearest.js';
import { logSoftmaxNll, logSoftmaxNllBackward } from '../ops/log-softmax-nll.js';
import { reduceSum } from '../ops/reduce-sum.js';
import { concatOneHot, concatOneHotBackward } from '../ops/concat-one-hot.js';
import type { ConvOp, GraphOps } from './ops.js';

export interface GpuValue {
  t: Tensor;
  requiresGrad: boolean;
  grad: Tensor | null;
  /** Whether this value is responsible for releasing `grad` (false once passed on to a residual input). */
  ownsGrad: boolean;
}

/** A parameter as the tape sees it: its value and its gradient (views into the flat buffers). */
export interface ParamSlot {
  value: Tensor;
  grad: Tensor;
}

export class Tape implements GraphOps<GpuValue> {
  readonly forward: Dispatch[] = [];
  readonly backwardList: Dispatch[] = [];
  /** Written by the loss: [0] mean cross-entropy of the batch. */
  readonly stats: Tensor;
  protected readonly records: (() => Promise<void>)[] = [];
  protected readonly pool: BufferPool;
  protected readonly written = new Set<string>();
  protected scratchFloats = 0;
  protected scratch: Tensor | null = null;

  constructor(
    protected readonly engine: Engine,
    protected readonly params: (name: string) => ParamSlot,
    protected readonly labels: Tensor,
    /** [B] u32 MIDI pitches (pitch-conditioned configs). */
    protected readonly pitches: Tensor | null = null,
  ) {
    // Its own pool (gradients are recycled within a pass), on the engine's memory account.
    this.pool = new BufferPool(engine.device, engine.pool.account);
    this.stats = this.alloc([4]);
  }

  /** A graph input that needs no gradient (the quantised audio). */
  input(t: Tensor): GpuValue {
    return { t, requiresGrad: false, grad: null, ownsGrad: false };
  }

  protected alloc(shape: number[]): Tensor {
    const buffer = this.pool.take(numel(shape) * 4, 'tape');
    return new Tensor(buffer, shape, 'f32', this.pool);
  }

  protected value(shape: number[]): GpuValue {
    return { t: this.alloc(shape), requiresGrad: true, grad: null, ownsGrad: false };
  }

  protected push(d: Dispatch | Dispatch[]): void {
    if (Array.isArray(d)) this.backwardList.push(...d);
    else this.backwardList.push(d);
  }

  /** Adds a gradient contribution to v: `make(dst, accumulate)` prepares the kernel that writes it. */
  protected async contribute(
    v: GpuValue,
    make: (dst: Tensor, accumulate: boolean) => Promise<Dispatch | Dispatch[]>,
    canAccumulate = true,
  ): Promise<void> {
    if (!v.requiresGrad) return;
    if (!v.grad) {
      v.grad = this.alloc(v.t.shape);
      v.ownsGrad = true;
      this.push(await make(v.grad, false));
    } else if (canAccumulate) {
      this.push(await make(v.grad, true));
    } else {
      const tmp = this.alloc(v.t.shape);
      this.push(await make(tmp, false));
      this.push(await axpy(this.engine, tmp, v.grad));
      tmp.release();
    }
  }

  /**
   * v's gradient gets g unchanged (the residual sum). g is a buffer this op owns: it becomes v's
   * gradient when v has none yet, else it is added in.
   */
  protected async passOn(v: GpuValue, g: Tensor): Promise<boolean> {
    if (!v.requiresGrad) return false;
    if (!v.grad) {
      v.grad = g;
      v.ownsGrad = true;
      return true;
    }
    this.push(await axpy(this.engine, g, v.grad));
    return false;
  }

  protected done(y: GpuValue): void {
    if (y.grad && y.ownsGrad) y.grad.release();
    y.ownsGrad = false;
  }

  async conv(x: GpuValue, layer: string, o: ConvOp<GpuValue>): Promise<GpuValue> {
    const W = this.params(`${layer}/W`);
    const b = this.params(`${layer}/biases`);
    const [B, T, cin] = x.t.shape;
    const cout = W.value.shape[3];
    const y = this.value([B, T, cout]);
    const frameLen = o.frameLen ?? 0;
    this.forward.push(
      await conv1d(this.engine, x.t, W.value, b.value, y.t, {
        taps: o.taps,
        dilation: o.dilation,
        mode: o.mode,
        reluIn: o.reluIn,
        reluOut: o.reluOut,
        residual: o.residual?.t,
        frameBias: o.frameBias ? { tensor: o.frameBias.t, stride: cout, offset: 0, frameLen } : undefined,
      }),
    );
    const s: ConvShape = {
      B,
      T,
      cin,
      cout,
      taps: o.taps,
      dilation: o.dilation ?? 1,
      mode: o.mode ?? 'causal',
      reluIn: !!o.reluIn,
      reluOut: !!o.reluOut,
    };
    this.scratchFloats = Math.max(this.scratchFloats, weightGradScratch(s, this.engine));
    this.records.push(async () => {
      if (!y.grad) return;
      let g = y.grad;
      let sg = s;
      let masked: Tensor | null = null;
      if (s.reluOut && (o.residual || o.frameBias)) {
        // The residual and frame-bias gradients need dy already masked by the output ReLU.
        masked = this.alloc(y.t.shape);
        this.push(await reluBackward(this.engine, y.t, g, masked, false));
        g = masked;
        sg = { ...s, reluOut: false };
      }
      const wName = `${layer}/W`;
      const bName = `${layer}/biases`;
      this.push(
        await conv1dBackwardWeight(this.engine, sg, x.t, g, y.t, W.grad, b.grad, this.scratch!, {
          W: this.written.has(wName),
          bias: this.written.has(bName),
        }),
      );
      this.written.add(wName).add(bName);
      if (o.frameBias) {
        const F = T / frameLen;
        if (o.frameBias.t.numel !== B * F * cout)
          throw new Error(`${layer}: frame bias [${o.frameBias.t.shape}] does not match [${B}, ${F}, ${cout}]`);
        await this.contribute(o.frameBias, (dst) => avgPool(this.engine, g, dst, frameLen, 1), false);
      }
      await this.contribute(x, (dst, acc) => conv1dBackwardInput(this.engine, sg, g, W.value, x.t, y.t, dst, acc));
      // The residual input's gradient is g itself: hand the buffer over (masked, or y's own gradient).
      const handedOver = o.residual ? await this.passOn(o.residual, g) : false;
      if (handedOver && !masked) y.ownsGrad = false;
      if (masked && !handedOver) masked.release();
      this.done(y);
    });
    return y;
  }

  async gate(x: GpuValue): Promise<GpuValue> {
    const shape = [...x.t.shape];
    shape[shape.length - 1] /= 2;
    const y = this.value(shape);
    this.forward.push(await gate(this.engine, x.t, y.t));
    this.records.push(async () => {
      if (!y.grad) return;
      const g = y.grad;
      await this.contribute(x, (dst, acc) => gateBackward(this.engine, x.t, g, dst, acc));
      this.done(y);
    });
    return y;
  }

  async avgPool(x: GpuValue, window: number): Promise<GpuValue> {
    const [B, T, C] = x.t.shape;
    const y = this.value([B, T / window, C]);
    this.forward.push(await avgPool(this.engine, x.t, y.t, window));
    this.records.push(async () => {
      if (!y.grad) return;
      const g = y.grad;
      await this.contribute(x, (dst) => upsampleNearest(this.engine, g, dst, window, 1 / window), false);
      this.done(y);
    });
    return y;
  }

  async concatPitch(x: GpuValue, classes: number): Promise<GpuValue> {
    const pitches = this.pitches;
    if (!pitches) throw new Error('Tape: a pitch-conditioned graph needs a pitch tensor');
    const [B, F, C] = x.t.shape;
    const y = this.value([B, F, C + classes]);
    this.forward.push(await concatOneHot(this.engine, x.t, pitches, classes, y.t));
    this.records.push(async () => {
      if (!y.grad) return;
      const g = y.grad;
      await this.contribute(x, (dst, acc) => concatOneHotBackward(this.engine, g, pitches, classes, dst, acc));
      this.done(y);
    });
    return y;
  }

  async crossEntropy(logits: GpuValue): Promise<GpuValue> {
    const classes = logits.t.shape[logits.t.shape.length - 1];
    const rows = logits.t.numel / classes;
    const logp = this.alloc(logits.t.shape);
    const nll = this.alloc([rows]);
    this.forward.push(await logSoftmaxNll(this.engine, logits.t, this.labels, logp, nll));
    this.forward.push(await reduceSum(this.engine, nll, this.stats, { scale: 1 / rows, slot: 0 }));
    const loss: GpuValue = { t: this.stats, requiresGrad: true, grad: null, ownsGrad: false };
    this.records.push(async () => {
      await this.contribute(
        logits,
        async (dst) => logSoftmaxNllBackward(this.engine, logp, this.labels, dst, 1 / rows),
        false,
      );
    });
    return loss;
  }

  /** Prepares the backward dispatches, last op first. Parameters never reached keep their gradient untouched. */
  async backward(): Promise<void> {
    this.scratch = this.alloc([Math.max(1, this.scratchFloats)]);
    for (let i = this.records.length - 1; i >= 0; i--) await this.records[i]();
    this.records.length = 0;
  }

  /** Names of the parameters that received a gradient. */
  reached(): Set<string> {
    return new Set(this.written);
  }

  dispose(): void {
    destroyDispatches(this.forward);
    destroyDispatches(this.backwardList);
    this.pool.destroyAll();
  }
}
