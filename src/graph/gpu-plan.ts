// The GPU inference plan: a graph prepared once for one input shape, as a list of dispatches that
// replays with no host work per op. Building it runs the graph twice. The first run (Trace) only
// counts how often each value is used; the second (PlanBuilder) prepares the dispatches and, knowing
// the remaining uses, gives a dead value's buffer to the next value of its size and turns a residual
// sum whose old value is not needed again into an in-place accumulate. So the plan holds about as
// many activation buffers as a hand-written one would (the residual stream, the skip sum and a few
// temporaries), and a network is never written a second time for inference.
import type { Engine } from '../gpu/engine.js';
import { type Dispatch, destroyDispatches } from '../gpu/registry.js';
import { numel, type Tensor } from '../gpu/tensor.js';
import { avgPool } from '../ops/avg-pool.js';
import { concatOneHot } from '../ops/concat-one-hot.js';
import { conv1d } from '../ops/conv1d.js';
import { gate } from '../ops/gate.js';
import { logSoftmaxNll } from '../ops/log-softmax-nll.js';
import { reduceSum } from '../ops/reduce-sum.js';
import type { ConvOp, GraphOps } from './ops.js';

/** What a plan reads besides its inputs: parameters by name, and the labels / pitches where the graph uses them. */
export interface PlanSources {
  param(name: string): Tensor;
  /** [B * T] u32 classes, for crossEntropy. */
  labels?: Tensor;
  /** [B] u32 MIDI pitches, for concatPitch. */
  pitches?: Tensor;
}

/** A graph over any evaluator's values: receives its inputs in order and returns its output. */
export type Graph = <V>(g: GraphOps<V>, ...inputs: V[]) => Promise<V>;

/** First run: value ids in creation order and how many times each is consumed. */
class Trace implements GraphOps<number> {
  readonly uses: number[] = [];

  value(): number {
    this.uses.push(0);
    return this.uses.length - 1;
  }

  private use(...ids: (number | undefined)[]): number {
    for (const id of ids) if (id !== undefined) this.uses[id]++;
    return this.value();
  }

  async conv(x: number, _layer: string, o: ConvOp<number>): Promise<number> {
    return this.use(x, o.residual, o.frameBias);
  }
  async gate(x: number): Promise<number> {
    return this.use(x);
  }
  async avgPool(x: number): Promise<number> {
    return this.use(x);
  }
  async concatPitch(x: number): Promise<number> {
    return this.use(x);
  }
  async crossEntropy(x: number): Promise<number> {
    return this.use(x);
  }
}

interface PlanValue {
  id: number;
  t: Tensor;
}

/** Second run: dispatches, with buffers recycled as soon as their value is dead. */
class PlanBuilder implements GraphOps<PlanValue> {
  readonly dispatches: Dispatch[] = [];
  /** Every tensor the plan allocated (released by the plan). */
  readonly owned: Tensor[] = [];
  private readonly free = new Map<number, Tensor[]>();
  private readonly remaining: number[];
  private readonly pinned = new Set<number>();
  private next = 0;

  constructor(
    private readonly engine: Engine,
    private readonly sources: PlanSources,
    uses: number[],
    output: number,
  ) {
    this.remaining = uses.slice();
    this.pinned.add(output);
  }

  /** Values made so far (inputs included). */
  get created(): number {
    return this.next;
  }

  input(t: Tensor): PlanValue {
    this.pinned.add(this.next);
    return { id: this.next++, t };
  }

  /** Frees what a failed build prepared. */
  dispose(): void {
    destroyDispatches(this.dispatches);
    for (const t of this.owned) t.release();
    this.owned.length = 0;
  }

  /** A float tensor: a dead value's buffer of the same size when there is one, else a new one. */
  private alloc(shape: number[]): Tensor {
    const reused = this.free.get(numel(shape))?.pop();
    if (reused) return reused.reshape(shape);
    const t = this.engine.tensor(shape);
    this.owned.push(t);
    return t;
  }

  private value(shape: number[]): PlanValue {
    return { id: this.next++, t: this.alloc(shape) };
  }

  /**
   * One use of each input is consumed; a value with none left gives its buffer back (unless it is an input or the
   * output).
   */
  private consumed(...values: (PlanValue | undefined)[]): void {
    for (const v of values) {
      if (!v) continue;
      if (--this.remaining[v.id] === 0 && !this.pinned.has(v.id)) {
        const list = this.free.get(v.t.numel) ?? [];
        list.push(v.t);
        this.free.set(v.t.numel, list);
      }
    }
  }

  async conv(x: PlanValue, layer: string, o: ConvOp<PlanValue>): Promise<PlanValue> {
    const W = this.sources.param(`${layer}/W`);
    const b = this.sources.param(`${layer}/biases`);
    const [B, T] = x.t.shape;
    const cout = W.shape[3];
    const r = o.residual;
    // The residual's old value is needed by nothing after this op: accumulate into its buffer.
    const inPlace = !!r && r.id !== x.id && this.remaining[r.id] === 1 && !this.pinned.has(r.id);
    const y = inPlace ? { id: this.next++, t: r.t } : this.value([B, T, cout]);
    if (inPlace) this.remaining[r.id]++; // keeps the buffer from being freed below: it now holds y
    const frameBias = o.frameBias
      ? { tensor: o.frameBias.t, stride: cout, offset: 0, frameLen: o.frameLen ?? 0 }
      : undefined;
    this.dispatches.push(
      await conv1d(this.engine, x.t, W, b, y.t, {
        taps: o.taps,
        dilation: o.dilation,
        mode: o.mode,
        reluIn: o.reluIn,
        reluOut: o.reluOut,
        accumulate: inPlace,
        residual: inPlace ? undefined : r?.t,
        frameBias,
      }),
    );
    this.consumed(x, r, o.frameBias);
    return y;
  }

  async gate(x: PlanValue): Promise<PlanValue> {
    const shape = [...x.t.shape];
    shape[shape.length - 1] /= 2;
    const y = this.value(shape);
    this.dispatches.push(await gate(this.engine, x.t, y.t));
    this.consumed(x);
    return y;
  }

  async avgPool(x: PlanValue, window: number): Promise<PlanValue> {
    const [B, T, C] = x.t.shape;
    const y = this.value([B, T / window, C]);
    this.dispatches.push(await avgPool(this.engine, x.t, y.t, window));
    this.consumed(x);
    return y;
  }

  async concatPitch(x: PlanValue, classes: number): Promise<PlanValue> {
    const pitches = this.sources.pitches;
    if (!pitches) throw new Error('GPU plan: a pitch-conditioned graph needs a pitch tensor');
    const [B, F, C] = x.t.shape;
    const y = this.value([B, F, C + classes]);
    this.dispatches.push(await concatOneHot(this.engine, x.t, pitches, classes, y.t));
    this.consumed(x);
    return y;
  }

  async crossEntropy(logits: PlanValue): Promise<PlanValue> {
    const labels = this.sources.labels;
    if (!labels) throw new Error('GPU plan: crossEntropy needs a labels tensor');
    const classes = logits.t.shape[logits.t.shape.length - 1];
    const rows = logits.t.numel / classes;
    const logp = this.alloc(logits.t.shape);
    const nll = this.alloc([rows]);
    const loss = this.value([1]);
    this.dispatches.push(await logSoftmaxNll(this.engine, logits.t, labels, logp, nll));
    this.dispatches.push(await reduceSum(this.engine, nll, loss.t, { scale: 1 / rows }));
    this.consumed(logits);
    return loss;
  }
}

/** Ops a graph runs, without building anything (for reports: one dispatch each, crossEntropy's two counted as one). */
export async function countOps(graph: Graph, inputs: number): Promise<number> {
  const trace = new Trace();
  await graph(trace, ...Array.from({ length: inputs }, () => trace.value()));
  return trace.uses.length - inputs;
}

export class GpuPlan {
  private constructor(
    readonly dispatches: Dispatch[],
    readonly output: Tensor,
    private readonly owned: Tensor[],
    private readonly engine: Engine,
  ) {}

  /**
   * Prepares `graph` over the given input tensors (which the caller owns and writes before each run).
   * The output tensor belongs to the plan.
   */
  static async build(engine: Engine, sources: PlanSources, inputs: Tensor[], graph: Graph): Promise<GpuPlan> {
    const trace = new Trace();
    const out = await graph(trace, ...inputs.map(() => trace.value()));
    const builder = new PlanBuilder(engine, sources, trace.uses, out);
    try {
      const result = await graph(builder, ...inputs.map((t) => builder.input(t)));
      // Both runs must see the same values in the same order, or the use counts would free live buffers.
      if (builder.created !== trace.uses.length || result.id !== out) {
        throw new Error(
          `GpuPlan: the graph made ${builder.created} values on its second run, ${trace.uses.length} on its first`,
        );
      }
      return new GpuPlan(builder.dispatches, result.t, builder.owned, engine);
    } catch (e) {
      builder.dispose();
      throw e;
    }
  }

  /** Submits the prepared dispatches (after any extra ones, such as quantising the input). */
  run(before: Dispatch[] = []): void {
    this.engine.run(before.length ? [...before, ...this.dispatches] : this.dispatches);
  }

  dispose(): void {
    destroyDispatches(this.dispatches);
    for (const t of this.owned) t.release();
    this.owned.length = 0;
  }
}
