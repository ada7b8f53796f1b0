// The autoencoder's two GPU plans for one (batch, window): audio in, quantised on the GPU, then the
// graph's encoder or its teacher-forced decoder (src/graph/wavenet.ts) prepared by the GPU plan
// evaluator. Inputs are written before each run; the output is read after it.
import type { Engine } from '../gpu/engine.js';
import { type Dispatch, destroyDispatches } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { GpuPlan } from '../graph/gpu-plan.js';
import { decoder, encoder } from '../graph/wavenet.js';
import type { ModelConfig } from '../model/config.js';
import { muLawQuantize } from '../ops/mu-law.js';

/** The weights on the GPU, by Magenta name, and the mu-law bin edges. */
export interface GpuWeights {
  get(name: string): Tensor;
  edges: Tensor;
}

export class AutoencoderPlan {
  /** Raw audio [B, T], written before each run. */
  readonly audio: Tensor;
  /** Decoder plans: the embedding [B, T/hop, bottleneck] and, for pitch-conditioned configs, pitches [B] (u32). */
  readonly embedding: Tensor | null;
  readonly pitch: Tensor | null;
  private readonly owned: Tensor[] = [];
  private quantize!: Dispatch;
  private plan!: GpuPlan;

  private constructor(
    private readonly engine: Engine,
    readonly kind: 'encoder' | 'decoder',
    c: ModelConfig,
    readonly B: number,
    readonly T: number,
  ) {
    this.audio = this.own([B, T]);
    this.embedding = kind === 'decoder' ? this.own([B, T / c.hop, c.bottleneck]) : null;
    this.pitch = kind === 'decoder' && c.pitchConditioning ? this.own([B], 'u32') : null;
  }

  /** The encoder's output [B, T/hop, bottleneck], or the decoder's logits [B, T, classes]. */
  get output(): Tensor {
    return this.plan.output;
  }

  static async build(
    engine: Engine,
    kind: 'encoder' | 'decoder',
    c: ModelConfig,
    w: GpuWeights,
    B: number,
    T: number,
  ): Promise<AutoencoderPlan> {
    const p = new AutoencoderPlan(engine, kind, c, B, T);
    const x = p.own([B, T, 1]);
    const classes = p.own([B * T], 'u32');
    p.quantize = await muLawQuantize(engine, p.audio, w.edges, x, classes);
    const sources = { param: (name: string) => w.get(name), labels: classes, pitches: p.pitch ?? undefined };
    p.plan =
      kind === 'encoder'
        ? await GpuPlan.build(engine, sources, [x], (g, xv) => encoder(g, c, xv))
        : await GpuPlan.build(engine, sources, [x, p.embedding!], (g, xv, emb) => decoder(g, c, xv, emb));
    return p;
  }

  private own(shape: number[], dtype: 'f32' | 'u32' = 'f32'): Tensor {
    const t = this.engine.tensor(shape, dtype);
    this.owned.push(t);
    return t;
  }

  /** Dispatches per run (benchmarks report it). */
  get dispatchCount(): number {
    return 1 + this.plan.dispatches.length;
  }

  run(): void {
    this.plan.run([this.quantize]);
  }

  dispose(): void {
    destroyDispatches([this.quantize]);
    this.plan.dispose();
    for (const t of this.owned) t.release();
    this.owned.length = 0;
  }
}
