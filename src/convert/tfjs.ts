// TensorFlow.js model folders (model.json + binary shards): import and export of weights.
// Import reads the weights manifest of any tfjs model (graph or layers model, the old format with
// no `format` key, a bare weights-manifest array, shards with or without `.bin`) and decodes it with
// tfjs-core's own io code, so quantised weights (uint8, uint16, float16) come out as tfjs would load
// them. For graph models, weights also get names from the ops that consume them (`Conv2D:1` is a
// conv's filter), since converted graphs often name their constants `Func/.../input/_81`.
// Export writes our weights as a tfjs weights manifest + 4 MB shards (`tf.io.loadWeights` loads them).
// tfjs is imported on first use, not with this module: it is an optional dependency, and loading it
// takes over a second (1.6 s on a 2-core VM) that every `nsynth` command and every import of
// nsynth-webgpu/convert would otherwise pay.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Tf from '@tensorflow/tfjs-core';
import type { Weights } from '../model/weights.js';
import { floatsToHalf } from '../formats/half.js';
import { TFJS_GENERATED_BY } from '../formats/output-folder.js';

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

export interface TfjsTensor {
  name: string;
  shape: number[];
  dtype: string;
  /** Bytes it occupies in its shard. */
  bytes: number;
  quantization?: string;
  group: number;
  values: Float32Array | Int32Array | Uint8Array | string[];
}

export interface GraphUse {
  /** Consuming node, its op, and which input the weight is. */
  node: string;
  op: string;
  input: number;
}

export interface TfjsModel {
  modelJson: string;
  format: string;
  tensors: TfjsTensor[];
  /** For graph models: weight name -> the nodes that read it. */
  uses: Map<string, GraphUse[]>;
  /** The raw model.json (topology included). */
  json: Record<string, unknown>;
}

let tfReady: Promise<typeof Tf> | null = null;
/** tfjs-core with its CPU backend, loaded once, on the first model read. */
function loadTf(): Promise<typeof Tf> {
  tfReady ??= (async () => {
    let tf: typeof Tf;
    try {
      tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-cpu');
    } catch (e) {
      tfReady = null; // installing them and calling again works in the same process
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw e;
      throw new Error(
        'Reading TensorFlow.js models needs the optional dependencies @tensorflow/tfjs-core and ' +
          `@tensorflow/tfjs-backend-cpu (npm install @tensorflow/tfjs-core @tensorflow/tfjs-backend-cpu): ${(e as Error).message}`,
      );
    }
    // tfjs-core's decoder builds tensors, so it needs a backend; PROD silences its Node banner.
    tf.env().set('PROD', true);
    await tf.setBackend('cpu');
    return tf;
  })();
  return tfReady;
}

const VALUE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

function specBytes(s: TfjsWeightSpec, where: string): number {
  const n = s.shape.reduce((a, b) => a * b, 1);
  const dtype = s.quantization?.dtype ?? s.dtype;
  // Own keys only: a corrupted dtype such as "constructor" must not find Object's prototype.
  const per = typeof dtype === 'string' && Object.hasOwn(VALUE_BYTES, dtype) ? VALUE_BYTES[dtype] : undefined;
  if (per === undefined)
    throw new Error(
      `${where}: weight "${s.name}" has dtype ${typeof dtype === 'string' ? dtype : shallowJson(dtype)}, which is not supported`,
    );
  return n * per;
}

/**
 * A model.json value for an error message, nested lists and objects shown as "…": a corrupted file
 * may nest thousands of levels deep, where JSON.stringify would overflow the stack.
 */
function shallowJson(v: unknown): string {
  const text = JSON.stringify(v, function (this: unknown, key: string, x: unknown) {
    return key !== '' && this !== v && typeof x === 'object' && x !== null ? '…' : x;
  });
  return String(text).slice(0, 120);
}

/** `dir/model.json`, or a path to any tfjs .json file. */
export function modelJsonPath(p: string): string {
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
    for (const name of ['model.json', 'weights_manifest.json'])
      if (fs.existsSync(path.join(p, name))) return path.join(p, name);
    throw new Error(`${p}: no model.json here (not a TensorFlow.js model folder)`);
  }
  return p;
}

/**
 * A model.json's weight groups checked and read: every group has "paths" and "weights" lists, every
 * shard path stays in the folder and is readable, every weight entry is well formed and named once
 * in its group, and the shards hold exactly the bytes the entries describe (more would mean the
 * manifest misreads them, fewer that it points past the end). Errors name the file.
 */
export function readWeightGroups(manifest: unknown, file: string): { specs: TfjsWeightSpec[]; buffer: Uint8Array }[] {
  if (!Array.isArray(manifest)) throw new Error(`${file}: no weightsManifest`);
  const dir = path.dirname(file);
  return manifest.map((group: { paths?: unknown; weights?: unknown }, g) => {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights))
      throw new Error(`${file}: weights group ${g} needs "paths" and "weights" lists`);
    const shards = group.paths.map((rel: unknown) => {
      if (typeof rel !== 'string' || path.isAbsolute(rel) || path.normalize(rel).split(/[\\/]/)[0] === '..')
        throw new Error(`${file}: group ${g} has a bad shard path ${shallowJson(rel)}`);
      const f = path.join(dir, rel);
      try {
        return new Uint8Array(fs.readFileSync(f));
      } catch (e) {
        throw new Error(
          `${f}: cannot read shard of ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
      }
    });
    const total = shards.reduce((n: number, x: Uint8Array) => n + x.length, 0);
    const specs = group.weights as TfjsWeightSpec[];
    let need = 0;
    const names = new Set<string>();
    for (const w of specs) {
      if (
        typeof w?.name !== 'string' ||
        !Array.isArray(w.shape) ||
        w.shape.some((d) => !Number.isInteger(d) || d < 0) ||
        typeof w.dtype !== 'string' ||
        (w.quantization !== undefined && (typeof w.quantization !== 'object' || w.quantization === null))
      )
        throw new Error(`${file}: group ${g} has a malformed weight entry ${shallowJson(w)}`);
      if (w.dtype === 'string') throw new Error(`${file}: weight "${w.name}" is a string tensor (not supported)`);
      // tfjs decodes a group into an object keyed by name: a second entry would overwrite the first.
      if (names.has(w.name)) throw new Error(`${file}: group ${g} lists weight "${w.name}" twice`);
      names.add(w.name);
      need += specBytes(w, file);
    }
    const listed = (group.paths as string[]).join(', ');
    if (need > total)
      throw new Error(
        `${file}: group ${g}'s manifest needs ${need} bytes, its shards (${listed}) hold ${total}: ` +
          `it points past the end of the data`,
      );
    // More data than the manifest describes means the manifest misreads it (a float32 tensor
    // declared uint8-quantised decodes to garbage): refused, not converted.
    if (need < total)
      throw new Error(
        `${file}: group ${g}'s manifest describes ${need} bytes, its shards (${listed}) hold ${total}: ` +
          `a weight's dtype, shape or quantisation does not match the data`,
      );
    const buffer = new Uint8Array(total);
    let at = 0;
    for (const x of shards) {
      buffer.set(x, at);
      at += x.length;
    }
    return { specs, buffer };
  });
}

export async function readTfjsModel(p: string): Promise<TfjsModel> {
  const file = modelJsonPath(p);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(
      `${file}: not a readable TensorFlow.js model.json (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  if (typeof json !== 'object' || json === null)
    throw new Error(`${file}: not a TensorFlow.js model.json (${json === null ? 'null' : typeof json}, not an object)`);
  // A bare weights manifest (the oldest format) is an array of groups.
  const manifest = (Array.isArray(json) ? json : json.weightsManifest) as
    | { paths: string[]; weights: TfjsWeightSpec[] }[]
    | undefined;
  if (!Array.isArray(manifest)) throw new Error(`${file}: no weightsManifest`);
  const format = Array.isArray(json)
    ? 'weights-manifest'
    : typeof json.format === 'string'
      ? json.format
      : json.modelTopology && (json.modelTopology as Record<string, unknown>).node
        ? 'graph-model (no format key)'
        : 'layers-model (no format key)';
  const tf = await loadTf();
  const tensors: TfjsTensor[] = [];
  for (const [g, { specs, buffer }] of readWeightGroups(manifest, file).entries()) {
    let decoded: Tf.NamedTensorMap;
    try {
      decoded = tf.io.decodeWeights(buffer.buffer as ArrayBuffer, specs as Tf.io.WeightsManifestEntry[]);
    } catch (e) {
      // tfjs refuses combinations we do not check (float16 quantisation of an int32 weight, uint8
      // without min and scale): its message names the weight, ours adds the file.
      throw new Error(`${file}: group ${g}: ${(e as Error).message}`);
    }
    for (const s of specs) {
      const t = decoded[s.name];
      const values = t.dataSync() as Float32Array | Int32Array | Uint8Array;
      tensors.push({
        name: s.name,
        shape: s.shape,
        dtype: s.dtype,
        bytes: specBytes(s, file),
        quantization: s.quantization?.dtype,
        group: g,
        values,
      });
      t.dispose();
    }
  }
  return { modelJson: file, format, tensors, uses: graphUses(json, file), json: Array.isArray(json) ? {} : json };
}

/** For graph models: which node reads each constant, and as which input (checking every NodeDef's form). */
export function graphUses(json: unknown, file: string): Map<string, GraphUse[]> {
  const uses = new Map<string, GraphUse[]>();
  const nodes = (json as { modelTopology?: { node?: unknown } }).modelTopology?.node ?? [];
  if (!Array.isArray(nodes)) throw new Error(`${file}: modelTopology.node is not a list`);
  for (const [k, n] of nodes.entries()) {
    // A NodeDef has a string name and op, and its inputs are node names.
    if (
      typeof n?.name !== 'string' ||
      typeof n.op !== 'string' ||
      (n.input !== undefined && (!Array.isArray(n.input) || n.input.some((inp: unknown) => typeof inp !== 'string')))
    )
      throw new Error(`${file}: modelTopology node ${k} is malformed ${shallowJson(n)}`);
    ((n.input as string[] | undefined) ?? []).forEach((inp, i) => {
      if (inp.startsWith('^')) return; // control dependency
      const name = inp.replace(/:\d+$/, '');
      const list = uses.get(name) ?? [];
      list.push({ node: n.name, op: n.op, input: i });
      uses.set(name, list);
    });
  }
  return uses;
}

export interface DilatedConv {
  node: string;
  dilation: number;
  filter: string;
  shape: number[];
}

/**
 * Convolutions of a graph model with a dilation > 1, whether TensorFlow expressed it as the
 * `dilations` attribute or (as tf.nn.convolution does) as SpaceToBatchND -> Conv2D -> BatchToSpaceND.
 */
export function dilatedConvs(model: TfjsModel): DilatedConv[] {
  const nodes = new Map(
    ((model.json.modelTopology as { node?: Record<string, unknown>[] })?.node ?? []).map((n) => [n.name as string, n]),
  );
  const tensor = new Map(model.tensors.map((t) => [t.name, t]));
  const out: DilatedConv[] = [];
  for (const n of nodes.values()) {
    if (n.op !== 'Conv2D' && n.op !== 'Conv1D' && n.op !== 'DepthwiseConv2dNative') continue;
    const inputs = (n.input as string[]) ?? [];
    const filter = inputs[1]?.replace(/:\d+$/, '');
    const w = filter ? tensor.get(filter) : undefined;
    if (!w) continue;
    const attrDil = (n.attr as { dilations?: { list?: { i?: string[] } } })?.dilations?.list?.i?.map(Number) ?? [];
    let dilation = Math.max(1, ...attrDil);
    const src = nodes.get(inputs[0]?.replace(/:\d+$/, ''));
    if (src?.op === 'SpaceToBatchND') {
      const block = tensor.get(((src.input as string[])[1] ?? '').replace(/:\d+$/, ''));
      if (block) dilation = Math.max(dilation, ...Array.from(block.values as Int32Array));
    }
    if (dilation > 1) out.push({ node: n.name as string, dilation, filter, shape: w.shape });
  }
  return out;
}

/** A tensor to store in a tfjs weights manifest. */
export interface ShardEntry {
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
  /** Store as float16 (tfjs's `quantization: {dtype: 'float16'}`; decoded to float32 on load). */
  half?: boolean;
}

/**
 * Writes tensors into shards of at most `shardBytes` (4 MB, tfjs's converter default) named as tfjs
 * names them, and returns the weights manifest that describes them.
 */
export function writeWeightShards(
  dir: string,
  entries: ShardEntry[],
  o: { shardBytes?: number; writeFile: (file: string, data: Uint8Array | string) => void },
): { paths: string[]; weights: TfjsWeightSpec[] }[] {
  const shardBytes = o.shardBytes ?? 4 * 1024 * 1024;
  const specs: TfjsWeightSpec[] = [];
  const chunks: Uint8Array[] = [];
  for (const e of entries) {
    const dtype = e.data instanceof Int32Array ? 'int32' : 'float32';
    if (e.half && dtype === 'float32') {
      chunks.push(new Uint8Array(floatsToHalf(e.data as Float32Array).buffer));
      specs.push({ name: e.name, shape: e.shape, dtype, quantization: { dtype: 'float16' } });
    } else {
      chunks.push(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength));
      specs.push({ name: e.name, shape: e.shape, dtype });
    }
  }
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const n = Math.max(1, Math.ceil(total / shardBytes));
  const paths: string[] = [];
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const name = `group1-shard${i + 1}of${n}.bin`;
    o.writeFile(path.join(dir, name), all.subarray(i * shardBytes, Math.min(total, (i + 1) * shardBytes)));
    paths.push(name);
  }
  return [{ paths, weights: specs }];
}

/** Writes weights as a tfjs weights manifest (model.json) + shards of at most `shardBytes`. */
export function writeTfjsWeights(
  dir: string,
  w: Weights,
  o: { dtype?: 'f32' | 'f16'; shardBytes?: number; writeFile: (file: string, data: Uint8Array | string) => void },
): void {
  const entries = [...w.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data, half: o.dtype === 'f16' }));
  const modelJson = {
    format: 'weights-manifest',
    generatedBy: TFJS_GENERATED_BY,
    convertedBy: 'nsynth convert --to tfjs',
    userDefinedMetadata: { nsynthConfig: w.config },
    weightsManifest: writeWeightShards(dir, entries, o),
  };
  o.writeFile(path.join(dir, 'model.json'), `${JSON.stringify(modelJson, null, 1)}\n`);
}
