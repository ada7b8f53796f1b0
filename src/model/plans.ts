// Execution plans: for one (batch, window length) every activation buffer is allocated and every
// dispatch (pipeline + bind groups + uniforms) prepared once; running the plan again only writes
// the inputs, encodes the same dispatch list into one compute pass and submits it.
import type { Engine } from '../gpu/engine.js';
import { destroyDispatches, type Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { conv1d } from '../ops/conv1d.js';
import { gate } from '../ops/elementwise.js';
import { avgPool } from '../ops/frames.js';
import { muLawQuantize } from '../ops/mulaw.js';
import { conditioningWidth, decoderLayers, dilation, encoderLayers, type ModelConfig } from './config.js';

/** The model's weights on the GPU, plus the per-frame conditioning projections packed side by side. */
export interface GpuWeights {
  get(name: string): Tensor;
  /** [1, 1, E, condStride]: cond_map_1..L then cond_map_out1, so one matmul conditions every layer. */
  condW: Tensor;
  condB: Tensor;
  condStride: number;
  edges: Tensor;
  decodeTable: Tensor;
}

export abstract class Plan {
  readonly dispatches: Dispatch[] = [];
  protected readonly owned: Tensor[] = [];
  constructor(protected readonly engine: Engine, readonly B: number, readonly T: number) {}

  protected alloc(shape: number[], dtype: 'f32' | 'u32' = 'f32'): Tensor {
    const t = this.engine.tensor(shape, dtype);
    this.owned.push(t);
    return t;
  }

  run(): void {
    this.engine.run(this.dispatches);
  }

  dispose(): void {
    destroyDispatches(this.dispatches);
    for (const t of this.owned) t.release();
    this.owned.length = 0;
  }
}

/** audio [B, T] -> embedding [B, T/hop, bottleneck]: 2 dispatches per layer (conv+ReLUs, residual 1x1). */
export class EncoderPlan extends Plan {
  audio!: Tensor;
  embedding!: Tensor;

  static async build(engine: Engine, c: ModelConfig, w: GpuWeights, B: number, T: number): Promise<EncoderPlan> {
    const p = new EncoderPlan(engine, B, T);
    const we = c.encoder.width;
    p.audio = p.alloc([B, T]);
    const x = p.alloc([B, T, 1]);
    const classes = p.alloc([B * T], 'u32');
    const en = p.alloc([B, T, we]);
    const tmp = p.alloc([B, T, we]);
    const z = p.alloc([B, T, c.bottleneck]);
    p.embedding = p.alloc([B, T / c.hop, c.bottleneck]);
    const d = p.dispatches;
    const W = (n: string) => w.get(`${n}/W`);
    const b = (n: string) => w.get(`${n}/biases`);
    d.push(await muLawQuantize(engine, p.audio, w.edges, x, classes));
    d.push(await conv1d(engine, x, W('ae_startconv'), b('ae_startconv'), en, { taps: c.filterLength, mode: 'centred' }));
    for (let i = 1; i <= encoderLayers(c); i++) {
      const dil = dilation(i, c.encoder.layersPerStage);
      d.push(await conv1d(engine, en, W(`ae_dilatedconv_${i}`), b(`ae_dilatedconv_${i}`), tmp, { taps: c.filterLength, dilation: dil, mode: 'centred', reluIn: true, reluOut: true }));
      d.push(await conv1d(engine, tmp, W(`ae_res_${i}`), b(`ae_res_${i}`), en, { taps: 1, accumulate: true }));
    }
    d.push(await conv1d(engine, en, W('ae_bottleneck'), b('ae_bottleneck'), z, { taps: 1 }));
    d.push(await avgPool(engine, z, p.embedding, c.hop));
    return p;
  }
}

/**
 * Teacher-forced decoder: audio [B, T] + conditioning [B, T/hop, E] -> logits [B, T, classes].
 * Per layer: dilated conv with the frame's conditioning fused as a bias, gate, residual 1x1
 * accumulated into l (skipped on the last layer, whose residual feeds nothing), skip 1x1
 * accumulated into s.
 */
export class DecoderPlan extends Plan {
  audio!: Tensor;
  condInput!: Tensor;
  logits!: Tensor;

  static async build(engine: Engine, c: ModelConfig, w: GpuWeights, B: number, T: number): Promise<DecoderPlan> {
    const p = new DecoderPlan(engine, B, T);
    const { residual: R, skip: S } = c.decoder;
    const F = T / c.hop;
    const E = conditioningWidth(c);
    const L = decoderLayers(c);
    p.audio = p.alloc([B, T]);
    p.condInput = p.alloc([B, F, E]);
    const x = p.alloc([B, T, 1]);
    const classes = p.alloc([B * T], 'u32');
    const cond = p.alloc([B, F, w.condStride]);
    const l = p.alloc([B, T, R]);
    const s = p.alloc([B, T, S]);
    const dz = p.alloc([B, T, 2 * R]);
    const g = p.alloc([B, T, R]);
    const h = p.alloc([B, T, S]);
    p.logits = p.alloc([B, T, c.numClasses]);
    const d = p.dispatches;
    const W = (n: string) => w.get(`${n}/W`);
    const b = (n: string) => w.get(`${n}/biases`);
    const K = c.filterLength;
    d.push(await muLawQuantize(engine, p.audio, w.edges, x, classes));
    d.push(await conv1d(engine, p.condInput, w.condW, w.condB, cond, { taps: 1 }));
    d.push(await conv1d(engine, x, W('startconv'), b('startconv'), l, { taps: K, mode: 'causal-shifted' }));
    d.push(await conv1d(engine, l, W('skip_start'), b('skip_start'), s, { taps: 1 }));
    for (let i = 1; i <= L; i++) {
      const frameBias = { tensor: cond, stride: w.condStride, offset: (i - 1) * 2 * R, frameLen: c.hop };
      d.push(await conv1d(engine, l, W(`dilatedconv_${i}`), b(`dilatedconv_${i}`), dz, { taps: K, dilation: dilation(i, c.decoder.layersPerStage), mode: 'causal', frameBias }));
      d.push(await gate(engine, dz, g));
      if (i < L) d.push(await conv1d(engine, g, W(`res_${i}`), b(`res_${i}`), l, { taps: 1, accumulate: true }));
      d.push(await conv1d(engine, g, W(`skip_${i}`), b(`skip_${i}`), s, { taps: 1, accumulate: true }));
    }
    const outBias = { tensor: cond, stride: w.condStride, offset: L * 2 * R, frameLen: c.hop };
    d.push(await conv1d(engine, s, W('out1'), b('out1'), h, { taps: 1, reluIn: true, frameBias: outBias }));
    d.push(await conv1d(engine, h, W('logits'), b('logits'), p.logits, { taps: 1, reluIn: true }));
    return p;
  }
}
