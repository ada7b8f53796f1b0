// Magenta's released WaveNet autoencoder checkpoint onto our weights. Our tensor names are
// Magenta's (`dilatedconv_7/W`, `cond_map_3/biases`, ...), so the mapping is by name: optimiser
// slots are skipped, `--ema` takes the `<name>/ExponentialMovingAverage` shadows instead of the raw
// variables, and the config is inferred from the shapes and checked. Sources with other names
// (a tfjs model, a renamed graph) pass a name map first.
import { CONFIGS, PITCH_CLASSES, validateConfig, type ModelConfig } from '../model/config.js';
import { weightSpecs, Weights } from '../model/weights.js';

export interface SourceTensor {
  name: string;
  shape: number[];
  dtype: string;
}

export interface MappingOptions {
  /** Use the exponential-moving-average shadows (what Magenta evaluates with) instead of the raw variables. */
  ema?: boolean;
  /** Source name -> our name, applied before anything else (names not in the map keep their own). */
  map?: Record<string, string>;
  /** Layers per dilation stage (not stored in a checkpoint; Magenta's is 10). */
  layersPerStage?: number;
  /** The config, where the source records it (our tfjs exports do); else it is inferred from the shapes. */
  config?: unknown;
}

export interface MappingPlan {
  config: ModelConfig;
  /** Our tensor name -> the source tensor to read. */
  sources: Map<string, string>;
  /** Source tensors deliberately not used (optimiser state, the other of raw/EMA), by kind. */
  skipped: { optimizer: string[]; ema: string[]; raw: string[]; other: string[] };
}

const EMA_SUFFIX = '/ExponentialMovingAverage';
const OPTIMIZER = /(^|\/)(Adam|Adam_1|Momentum|RMSProp|RMSProp_1)$|^(beta1_power|beta2_power|global_step)$/;

/** Works out which source tensor becomes each of our tensors, and the config, from names and shapes alone. */
export function planMagentaMapping(tensors: SourceTensor[], where: string, o: MappingOptions = {}): MappingPlan {
  const byOurName = new Map<string, SourceTensor>();
  const skipped: MappingPlan['skipped'] = { optimizer: [], ema: [], raw: [], other: [] };
  for (const t of tensors) {
    const name = o.map?.[t.name] ?? t.name;
    if (OPTIMIZER.test(name)) {
      skipped.optimizer.push(t.name);
      continue;
    }
    const isEma = name.endsWith(EMA_SUFFIX);
    if (isEma !== !!o.ema) {
      (isEma ? skipped.ema : skipped.raw).push(t.name);
      continue;
    }
    byOurName.set(isEma ? name.slice(0, -EMA_SUFFIX.length) : name, t);
  }
  const config = inferConfig(byOurName, where, o);
  const specs = weightSpecs(config);
  const sources = new Map<string, string>();
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const s of specs) {
    const t = byOurName.get(s.name);
    if (!t) {
      missing.push(s.name);
      continue;
    }
    if (!sameLayout(t.shape, s.shape))
      wrong.push(`"${t.name}" is [${t.shape}], config ${config.name} needs [${s.shape}]`);
    if (!['float32', 'float16', 'bfloat16'].includes(t.dtype))
      wrong.push(`"${t.name}" is ${t.dtype}, expected a float type`);
    sources.set(s.name, t.name);
    byOurName.delete(s.name);
  }
  const kind = o.ema ? 'EMA shadow (--ema) ' : '';
  if (missing.length) {
    const spec = new Map(specs.map((s) => [s.name, s.shape]));
    throw new Error(
      `${where}: missing ${missing.length} ${kind}tensor(s) of config ${config.name}: ` +
        `${missing
          .slice(0, 12)
          .map((n) => `${n} [${spec.get(n)}]`)
          .join(', ')}${missing.length > 12 ? ', ...' : ''}` +
        renamedHint(missing, spec, [...byOurName.values()]),
    );
  }
  if (wrong.length) throw new Error(`${where}: ${wrong.join('; ')}`);
  const unexpected = [...byOurName.values()].map((t) => t.name).filter((n) => /\/(W|biases)$/.test(o.map?.[n] ?? n));
  if (unexpected.length)
    throw new Error(`${where}: unexpected model tensor(s) for config ${config.name}: ${unexpected.join(', ')}`);
  skipped.other.push(...[...byOurName.values()].map((t) => t.name));
  return { config, sources, skipped };
}

/**
 * For tensors a source lacks, the unused tensors it has instead: where one has the same shape and
 * a near name, it was most likely renamed, and the hint gives the --map entry that fixes it.
 */
function renamedHint(missing: string[], spec: Map<string, number[]>, unused: SourceTensor[]): string {
  const candidates = unused.filter((t) => !OPTIMIZER.test(t.name));
  if (!candidates.length) return '';
  const guesses: Record<string, string> = {};
  const taken = new Set<string>();
  for (const name of missing) {
    let best: SourceTensor | null = null;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const t of candidates) {
      if (taken.has(t.name) || !sameLayout(t.shape, spec.get(name) ?? [])) continue;
      const d = editDistance(t.name, name);
      if (d < bestDistance) [best, bestDistance] = [t, d];
    }
    if (best && bestDistance <= Math.max(4, Math.max(name.length, best.name.length) / 2)) {
      guesses[best.name] = name;
      taken.add(best.name);
    }
  }
  const listed = candidates
    .slice(0, 12)
    .map((t) => `${t.name} [${t.shape}]`)
    .join(', ');
  let hint = `; the source has ${candidates.length} tensor(s) that config does not use: ${listed}${candidates.length > 12 ? ', ...' : ''}`;
  if (Object.keys(guesses).length)
    hint += ` (same shape and a near name: renamed? pass --map FILE, a JSON file holding ${JSON.stringify(guesses)})`;
  return hint;
}

/** Levenshtein distance (names are short: the plain dynamic programme). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/**
 * Shapes that differ only in unit dimensions lay their values out identically (a tfjs Conv2D
 * filter [3, 1, Cin, Cout] is Magenta's [1, 3, Cin, Cout]), so they convert without reordering.
 */
export function sameLayout(a: number[], b: number[]): boolean {
  return a.filter((d) => d !== 1).join() === b.filter((d) => d !== 1).join();
}

/** The sizes that matter for inference, whatever unit dimensions surround them. */
function core(shape: number[], rank: number): number[] {
  const s = shape.filter((d) => d !== 1);
  while (s.length < rank) s.unshift(1);
  return s;
}

function inferConfig(t: Map<string, SourceTensor>, where: string, o: MappingOptions): ModelConfig {
  // A recorded config is checked here and against every tensor's shape by the caller.
  if (o.config !== undefined) return validateConfig(structuredClone(o.config), `${where} (its nsynthConfig)`);
  const shape = (name: string): number[] => {
    const x = t.get(name);
    if (!x)
      throw new Error(
        `${where}: no tensor "${name}"${o.ema ? ' (EMA shadow)' : ''}: not the tensors of a Magenta WaveNet autoencoder ` +
          `(pass --map for other names)`,
      );
    return x.shape;
  };
  const count = (prefix: string): number => {
    let n = 0;
    while (t.has(`${prefix}_${n + 1}/W`)) n++;
    return n;
  };
  // Magenta's layout [1, K, Cin, Cout]; unit dimensions may be placed differently by other exporters.
  const [K, we] = core(shape('ae_startconv/W'), 2);
  const bottleneck = core(shape('ae_bottleneck/W'), 2)[1];
  const R = core(shape('startconv/W'), 2)[1];
  const S = core(shape('skip_start/W'), 2)[1];
  const classes = core(shape('logits/W'), 2)[1];
  const encLayers = count('ae_dilatedconv');
  const decLayers = count('dilatedconv');
  const E = core(shape('cond_map_1/W'), 2)[0];
  if (E !== bottleneck && E !== bottleneck + PITCH_CLASSES)
    throw new Error(
      `${where}: cond_map_1/W takes ${E} inputs, the bottleneck has ${bottleneck} (with pitch: ` +
        `${bottleneck + PITCH_CLASSES})`,
    );
  // The dilation pattern is not stored: a known config with the same widths and depths supplies it
  // (tiny's 2 x 5), else Magenta's 10 layers per stage, unless the caller says otherwise.
  const shapeKey = (x: ModelConfig) =>
    JSON.stringify([
      x.bottleneck,
      x.filterLength,
      x.numClasses,
      x.pitchConditioning,
      x.encoder.width,
      x.encoder.stages * x.encoder.layersPerStage,
      x.decoder.residual,
      x.decoder.skip,
      x.decoder.stages * x.decoder.layersPerStage,
    ]);
  const probe: ModelConfig = {
    name: 'converted',
    sampleRate: 16000,
    hop: 512,
    bottleneck,
    filterLength: K,
    numClasses: classes,
    pitchConditioning: E !== bottleneck,
    encoder: { width: we, stages: 1, layersPerStage: encLayers },
    decoder: { residual: R, skip: S, stages: 1, layersPerStage: decLayers },
  };
  const known =
    o.layersPerStage === undefined ? Object.values(CONFIGS).find((k) => shapeKey(k) === shapeKey(probe)) : undefined;
  if (known) return validateConfig(structuredClone(known), where);
  const lps = o.layersPerStage ?? 10;
  for (const [what, n] of [
    ['encoder', encLayers],
    ['decoder', decLayers],
  ] as const) {
    if (n === 0 || n % lps !== 0)
      throw new Error(
        `${where}: ${n} ${what} layers is not a whole number of ${lps}-layer stages (set layersPerStage)`,
      );
  }
  const c: ModelConfig = {
    ...probe,
    encoder: { width: we, stages: encLayers / lps, layersPerStage: lps },
    decoder: { residual: R, skip: S, stages: decLayers / lps, layersPerStage: lps },
  };
  return validateConfig(c, where);
}

/** Reads the planned tensors (as float32) into a Weights container. */
export function buildWeights(
  plan: MappingPlan,
  read: (sourceName: string) => Float32Array,
  onTensor?: (name: string) => void,
): Weights {
  const w = new Weights(plan.config);
  for (const s of weightSpecs(plan.config)) {
    const data = read(plan.sources.get(s.name)!);
    w.set(s.name, s.shape, data);
    onTensor?.(s.name);
  }
  w.validate();
  return w;
}
