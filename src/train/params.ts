// All parameters of a model in one flat buffer (and the same layout for gradients, Adam's two
// moments and the moving average), each tensor starting on a 256-byte boundary so a kernel can bind
// it as a view. One flat range makes the optimiser one dispatch per binding-sized chunk instead of
// one per tensor, and a checkpoint four reads.
import type { Engine } from '../gpu/engine.js';
import type { Tensor } from '../gpu/tensor.js';
import type { ModelConfig } from '../model/config.js';
import { type AnyConfig, specsOf, Weights } from '../model/weights.js';

const ALIGN = 64; // floats: 256 bytes, WebGPU's storage-buffer offset alignment

export interface ParamEntry {
  name: string;
  shape: number[];
  offset: number;
  numel: number;
}

export class ParamLayout<C extends AnyConfig = ModelConfig> {
  readonly entries: ParamEntry[] = [];
  readonly byName = new Map<string, ParamEntry>();
  /** Floats in the flat buffer, padding included. */
  readonly total: number;

  constructor(readonly config: C) {
    let at = 0;
    for (const s of specsOf(config)) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const e = { name: s.name, shape: s.shape, offset: at, numel: n };
      this.entries.push(e);
      this.byName.set(s.name, e);
      at += Math.ceil(n / ALIGN) * ALIGN;
    }
    this.total = at;
  }

  get(name: string): ParamEntry {
    const e = this.byName.get(name);
    if (!e) throw new Error(`No parameter "${name}" in config ${this.config.name}`);
    return e;
  }

  view(flat: Tensor, name: string): Tensor {
    const e = this.get(name);
    return flat.view(e.offset, e.shape);
  }

  /** Packs host weights (validated against the config) into one flat array. */
  pack(w: Weights<C>): Float32Array {
    w.validate();
    const flat = new Float32Array(this.total);
    for (const e of this.entries) flat.set(w.get(e.name).data, e.offset);
    return flat;
  }

  unpack(flat: Float32Array): Weights<C> {
    if (flat.length !== this.total)
      throw new Error(
        `Flat parameters hold ${flat.length} floats, the layout of ${this.config.name} needs ${this.total}`,
      );
    const w = new Weights<C>(this.config);
    for (const e of this.entries) w.set(e.name, e.shape, flat.slice(e.offset, e.offset + e.numel));
    return w;
  }

  /** Offsets of binding-sized chunks covering the flat range (each a multiple of the alignment). */
  chunks(engine: Engine): { offset: number; numel: number }[] {
    const max = Math.floor(engine.device.limits.maxStorageBufferBindingSize / 4 / ALIGN) * ALIGN;
    const out: { offset: number; numel: number }[] = [];
    for (let at = 0; at < this.total; at += max) out.push({ offset: at, numel: Math.min(max, this.total - at) });
    return out;
  }
}
