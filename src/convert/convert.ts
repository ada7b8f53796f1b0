// `nsynth convert` as a library function: Magenta's TensorFlow checkpoint, a TensorFlow.js model
// folder, or our own weights, into our weights (or, from our weights, out to tfjs). The input kind
// is detected from what is on disk.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Weights } from '../model/weights.js';
import { buildWeights, planMagentaMapping, type MappingOptions, type MappingPlan } from './magenta-checkpoint.js';
import { resolveBundlePrefix, TfBundle } from './tf-bundle.js';
import { readTfjsModel } from './tfjs.js';
import { readWeightsDir } from '../formats/weights-node.js';
import { MANIFEST_NAME } from '../formats/weights-file.js';

export type InputKind = 'tf-checkpoint' | 'tfjs' | 'nsynth-weights';

export function detectInputKind(p: string): InputKind {
  const isDir = fs.existsSync(p) && fs.statSync(p).isDirectory();
  if (isDir && fs.existsSync(path.join(p, MANIFEST_NAME))) {
    const file = path.join(p, MANIFEST_NAME);
    let m: { format?: string } | null;
    try {
      m = JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: string } | null;
    } catch (e) {
      throw new Error(`${file}: not readable JSON (${(e as Error).message})`);
    }
    if (m?.format === 'nsynth-webgpu-weights') return 'nsynth-weights';
  }
  if ((isDir && fs.existsSync(path.join(p, 'model.json'))) || p.endsWith('.json')) return 'tfjs';
  if (isDir || fs.existsSync(`${p}.index`) || p.endsWith('.index') || /\.data-\d{5}-of-\d{5}$/.test(p))
    return 'tf-checkpoint';
  // A checkpoint is named by its prefix, which is no file itself: "missing" only when nothing starts with it.
  const parent = path.dirname(path.resolve(p));
  if (
    !fs.existsSync(p) &&
    !(fs.existsSync(parent) && fs.readdirSync(parent).some((f) => f.startsWith(path.basename(p))))
  )
    throw new Error(`${p}: no such file or folder (nor a checkpoint prefix: no ${path.basename(p)}.index beside it)`);
  throw new Error(
    `${p}: not a TensorFlow checkpoint (PREFIX, PREFIX.index or its folder), a TensorFlow.js model folder, or a ` +
      `weights folder`,
  );
}

export interface ConvertOptions extends MappingOptions {
  onProgress?: (done: number, total: number) => void;
}

export interface ConvertReport {
  kind: InputKind;
  source: string;
  config: string;
  tensors: number;
  skipped: MappingPlan['skipped'] | null;
}

/** Reads a name map file: a JSON object { "source name": "our name" }. */
export function readNameMap(file: string): Record<string, string> {
  let m: unknown;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not a readable name map (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m) || Object.values(m).some((v) => typeof v !== 'string')) {
    throw new Error(`${file}: a name map is a JSON object of "source name": "our name" strings`);
  }
  return m as Record<string, string>;
}

export async function convertToWeights(
  input: string,
  o: ConvertOptions = {},
): Promise<{ weights: Weights; report: ConvertReport }> {
  const kind = detectInputKind(input);
  if (kind === 'nsynth-weights') {
    const weights = readWeightsDir(input);
    return {
      weights,
      report: { kind, source: input, config: weights.config.name, tensors: weights.tensors.size, skipped: null },
    };
  }
  if (kind === 'tf-checkpoint') {
    const bundle = new TfBundle(resolveBundlePrefix(input));
    try {
      const tensors = [...bundle.entries.values()].map((e) => ({ name: e.name, shape: e.shape, dtype: e.dtypeName }));
      const plan = planMagentaMapping(tensors, bundle.indexPath, o);
      const total = [...plan.sources.values()].reduce((n, s) => n + bundle.entry(s).size, 0);
      let done = 0;
      const weights = buildWeights(plan, (name) => {
        const v = bundle.read(name);
        done += bundle.entry(name).size;
        o.onProgress?.(done, total);
        return v as Float32Array;
      });
      return {
        weights,
        report: {
          kind,
          source: bundle.prefix,
          config: plan.config.name,
          tensors: plan.sources.size,
          skipped: plan.skipped,
        },
      };
    } finally {
      bundle.close();
    }
  }
  const model = await readTfjsModel(input);
  // Our own exports record the config (and, for a GraphModel, which part of the model they hold).
  const meta = (model.json.userDefinedMetadata ?? {}) as { nsynthConfig?: unknown; nsynthPart?: unknown };
  if (meta.nsynthPart === 'encoder' || meta.nsynthPart === 'decoder')
    throw new Error(
      `${model.modelJson}: this GraphModel holds only the ${meta.nsynthPart}; convert a --part autoencoder export ` +
        `(the whole model) back to weights`,
    );
  // Map keys may name a weight directly or through the graph ("consumer node:input index").
  const aliases = new Map<string, string>();
  for (const [w, uses] of model.uses) for (const u of uses) aliases.set(`${u.node}:${u.input}`, w);
  const map: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.map ?? {})) map[aliases.get(k) ?? k] = v;
  const byName = new Map(model.tensors.map((t) => [t.name, t]));
  const plan = planMagentaMapping(
    model.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype })),
    model.modelJson,
    { ...o, map, config: o.layersPerStage === undefined ? meta.nsynthConfig : undefined },
  );
  const total = [...plan.sources.values()].reduce((n, s) => n + byName.get(s)!.bytes, 0);
  let done = 0;
  const weights = buildWeights(plan, (name) => {
    const t = byName.get(name)!;
    done += t.bytes;
    o.onProgress?.(done, total);
    if (!(t.values instanceof Float32Array))
      throw new Error(`${model.modelJson}: weight "${name}" is ${t.dtype}, expected float32`);
    return t.values;
  });
  return {
    weights,
    report: {
      kind,
      source: model.modelJson,
      config: plan.config.name,
      tensors: plan.sources.size,
      skipped: plan.skipped,
    },
  };
}
