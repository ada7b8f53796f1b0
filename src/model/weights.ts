// The weights container, in Magenta's names and layouts (`dilatedconv_7/W` is [1, 3, 512, 1024],
// flattened as (k*Cin + ci)*Cout + co), so a converted TensorFlow checkpoint is a copy, not a reshuffle.
import { Rng } from '../util/rng.js';
import { type BaselineConfig, baselineWeightSpecs, isBaselineConfig } from './baseline-config.js';
import { conditioningWidth, decoderLayers, encoderLayers, type ModelConfig } from './config.js';

/** A WaveNet autoencoder's config or the spectrogram baseline's (`arch: 'baseline'`). */
export type AnyConfig = ModelConfig | BaselineConfig;

export interface TensorSpec {
  name: string;
  shape: number[];
}

export interface HostWeight {
  shape: number[];
  data: Float32Array;
}

function conv(name: string, k: number, cin: number, cout: number): TensorSpec[] {
  return [
    { name: `${name}/W`, shape: [1, k, cin, cout] },
    { name: `${name}/biases`, shape: [cout] },
  ];
}

/** Every tensor of the model, encoder first, in a fixed order. */
export function weightSpecs(c: ModelConfig): TensorSpec[] {
  const K = c.filterLength;
  const we = c.encoder.width;
  const { residual: R, skip: S } = c.decoder;
  const E = conditioningWidth(c);
  const specs: TensorSpec[] = [...conv('ae_startconv', K, 1, we)];
  for (let i = 1; i <= encoderLayers(c); i++)
    specs.push(...conv(`ae_dilatedconv_${i}`, K, we, we), ...conv(`ae_res_${i}`, 1, we, we));
  specs.push(...conv('ae_bottleneck', 1, we, c.bottleneck));
  specs.push(...conv('startconv', K, 1, R), ...conv('skip_start', 1, R, S));
  for (let i = 1; i <= decoderLayers(c); i++) {
    specs.push(...conv(`dilatedconv_${i}`, K, R, 2 * R), ...conv(`cond_map_${i}`, 1, E, 2 * R));
    specs.push(...conv(`res_${i}`, 1, R, R), ...conv(`skip_${i}`, 1, R, S));
  }
  specs.push(...conv('out1', 1, S, S), ...conv('cond_map_out1', 1, E, S), ...conv('logits', 1, S, c.numClasses));
  return specs;
}

/** Weights of a WaveNet autoencoder, or an error naming `where` if they are the spectrogram baseline's. */
export function waveNetWeights(w: Weights<AnyConfig>, where: string): Weights {
  if (isBaselineConfig(w.config))
    throw new Error(
      `${where} holds the spectrogram baseline (config ${w.config.name}), not a WaveNet autoencoder: use it with nsynth reconstruct, interpolate or eval --out`,
    );
  return w as Weights;
}

/** Every tensor of either architecture. */
export function specsOf(c: AnyConfig): TensorSpec[] {
  return isBaselineConfig(c) ? baselineWeightSpecs(c) : weightSpecs(c);
}

export function parameterCount(c: AnyConfig): number {
  return specsOf(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

export class Weights<C extends AnyConfig = ModelConfig> {
  readonly tensors = new Map<string, HostWeight>();
  constructor(readonly config: C) {}

  get(name: string): HostWeight {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`Weights for config ${this.config.name} have no tensor "${name}"`);
    return t;
  }

  set(name: string, shape: number[], data: Float32Array): void {
    this.tensors.set(name, { shape, data });
  }

  /** Every expected tensor present with its expected shape, nothing else. Errors name the tensor. */
  validate(where = 'weights'): void {
    const specs = specsOf(this.config);
    const expected = new Set(specs.map((s) => s.name));
    for (const s of specs) {
      const t = this.tensors.get(s.name);
      if (!t) throw new Error(`${where}: missing tensor "${s.name}" (config ${this.config.name})`);
      if (t.shape.join() !== s.shape.join())
        throw new Error(
          `${where}: tensor "${s.name}" has shape [${t.shape}], config ${this.config.name} needs [${s.shape}]`,
        );
      if (t.data.length !== s.shape.reduce((a, b) => a * b, 1))
        throw new Error(`${where}: tensor "${s.name}" holds ${t.data.length} values for shape [${s.shape}]`);
    }
    for (const name of this.tensors.keys()) {
      if (!expected.has(name)) throw new Error(`${where}: unexpected tensor "${name}" for config ${this.config.name}`);
    }
    // A NaN or infinite weight (a diverged run, a damaged file with valid checksums) would make every
    // logit NaN and every generated sample constant: refused wherever weights are loaded or written.
    for (const [name, t] of this.tensors) {
      const d = t.data;
      for (let i = 0; i < d.length; i++) {
        if (Number.isFinite(d[i])) continue;
        let count = 0;
        for (let j = i; j < d.length; j++) if (!Number.isFinite(d[j])) count++;
        throw new Error(
          `${where}: tensor "${name}" holds ${d[i]} at element ${i} (${count} non-finite of ${d.length}): ` +
            'the weights are unusable',
        );
      }
    }
  }
}

export interface InitOptions {
  /** Scale of random biases (Magenta initialises biases to zero; tests use non-zero ones to exercise them). */
  biasScale?: number;
}

/**
 * Magenta's initialisation: W ~ uniform_unit_scaling(1.0), i.e. U(-sqrt(3/fan_in), sqrt(3/fan_in))
 * with fan_in = K*Cin; biases zero unless `biasScale` is given.
 */
export function initWeights(config: ModelConfig, seed: number, o: InitOptions = {}): Weights {
  const w = new Weights(config);
  const rng = new Rng(seed);
  for (const s of weightSpecs(config)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (s.name.endsWith('/W')) {
      const fanIn = s.shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const lim = Math.sqrt(3 / fanIn);
      data = rng.fill(n, -lim, lim);
    } else {
      const b = o.biasScale ?? 0;
      data = b > 0 ? rng.fill(n, -b, b) : new Float32Array(n);
    }
    w.set(s.name, s.shape, data);
  }
  return w;
}
