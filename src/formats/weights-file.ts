// Our weights format, `weights/<name>/`: manifest.json (config, and per tensor its name, shape,
// dtype, byte offset, byte length and CRC-32C) plus one binary file. Reading checks every size,
// range and checksum on the host before any GPU memory is allocated; errors name file and tensor.
import { crc32c } from '../util/crc32c.js';
import { floatsToHalf, fromHalf } from './half.js';
import { isBaselineConfig, validateBaselineConfig } from '../model/baseline-config.js';
import { decoderLayers, encoderLayers, validateConfig } from '../model/config.js';
import { type AnyConfig, specsOf, Weights } from '../model/weights.js';

export const WEIGHTS_FORMAT = 'nsynth-webgpu-weights';
export const MANIFEST_NAME = 'manifest.json';
export const DATA_NAME = 'weights.bin';

export type StoredDType = 'f32' | 'f16';

export interface ManifestTensor {
  name: string;
  shape: number[];
  dtype: StoredDType;
  offset: number;
  bytes: number;
  crc32c: number;
}

export interface Manifest {
  format: typeof WEIGHTS_FORMAT;
  version: 1;
  config: AnyConfig;
  data: { file: string; bytes: number };
  tensors: ManifestTensor[];
  meta?: Record<string, unknown>;
}

const BYTES: Record<StoredDType, number> = { f32: 4, f16: 2 };

/** Serialises weights: returns the manifest and the data bytes (tensors in spec order, 4-byte aligned). */
export function encodeWeights(
  w: Weights<AnyConfig>,
  dtype: StoredDType = 'f32',
  meta?: Record<string, unknown>,
): { manifest: Manifest; data: Uint8Array } {
  w.validate();
  const specs = specsOf(w.config);
  let total = 0;
  for (const s of specs) total += align4(w.get(s.name).data.length * BYTES[dtype]);
  const data = new Uint8Array(total);
  const tensors: ManifestTensor[] = [];
  let offset = 0;
  for (const s of specs) {
    const src = w.get(s.name).data;
    const bytes = src.length * BYTES[dtype];
    const view = new Uint8Array(data.buffer, offset, bytes);
    if (dtype === 'f32') view.set(new Uint8Array(src.buffer, src.byteOffset, bytes));
    else new Uint16Array(data.buffer, offset, src.length).set(floatsToHalf(src));
    tensors.push({ name: s.name, shape: s.shape, dtype, offset, bytes, crc32c: crc32c(view) });
    offset += align4(bytes);
  }
  return {
    manifest: {
      format: WEIGHTS_FORMAT,
      version: 1,
      config: w.config,
      data: { file: DATA_NAME, bytes: total },
      tensors,
      meta,
    },
    data,
  };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Parses and checks a manifest's text; `where` names the file in errors. */
export function parseManifest(text: string, where: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
  // Describing or comparing a value recurses (JSON.stringify, Array.join, validateConfig's messages):
  // a corrupted file nested thousands of levels deep would overflow the stack there.
  if (nestingDepth(m) > MAX_MANIFEST_DEPTH)
    throw new Error(`${where}: nested more than ${MAX_MANIFEST_DEPTH} levels deep (not a weights manifest)`);
  if (m?.format !== WEIGHTS_FORMAT)
    throw new Error(`${where}: not an nsynth-webgpu weights manifest (format is ${JSON.stringify(m?.format)})`);
  if (m.version !== 1) throw new Error(`${where}: unsupported version ${JSON.stringify(m.version)}`);
  // Either architecture: the spectrogram baseline says so with arch: 'baseline'.
  if (isBaselineConfig(m.config)) validateBaselineConfig(m.config, where);
  else validateConfig(m.config, where);
  if (!m.data || typeof m.data.file !== 'string' || !/^[\w.-]+$/.test(m.data.file))
    throw new Error(`${where}: data.file must be a plain file name`);
  if (!Number.isSafeInteger(m.data.bytes) || m.data.bytes < 0)
    throw new Error(`${where}: data.bytes is ${JSON.stringify(m.data.bytes)}`);
  if (!Array.isArray(m.tensors)) throw new Error(`${where}: tensors is not a list`);
  // validateConfig allows a million stages of a million layers; listing the weights of such a config
  // would exhaust memory. Every layer has at least one tensor, so a config with more layers than the
  // manifest lists tensors is refused before its weights are listed.
  const c = m.config;
  const layers = isBaselineConfig(c) ? c.encoder.length + c.decoder.length : encoderLayers(c) + decoderLayers(c);
  if (layers > m.tensors.length)
    throw new Error(
      `${where}: config ${m.config.name} has ${layers} layers, the manifest lists only ${m.tensors.length} tensors`,
    );
  const specs = new Map(specsOf(m.config).map((s) => [s.name, s.shape]));
  const seen = new Set<string>();
  for (const [index, t] of m.tensors.entries()) {
    // A non-string name (an object with a `toString` key cannot even be converted) is refused as such.
    if (typeof t?.name !== 'string') throw new Error(`${where}: tensors[${index}] has no name`);
    const name = t.name;
    const tw = `${where}: tensor "${name}"`;
    if (seen.has(name)) throw new Error(`${tw} is listed twice`);
    seen.add(name);
    const shape = specs.get(name);
    if (!shape) throw new Error(`${tw} is not part of config ${m.config.name}`);
    if (!Array.isArray(t.shape) || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new Error(`${tw} has shape ${JSON.stringify(t.shape)}, config ${m.config.name} needs [${shape}]`);
    if (t.dtype !== 'f32' && t.dtype !== 'f16')
      throw new Error(`${tw} has unsupported dtype ${JSON.stringify(t.dtype)}`);
    const want = shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    if (t.bytes !== want)
      throw new Error(`${tw} claims ${JSON.stringify(t.bytes)} bytes, its shape and dtype need ${want}`);
    if (Number.isSafeInteger(t.offset) && t.offset >= 0 && t.offset % BYTES[t.dtype] !== 0)
      throw new Error(
        `${tw} at offset ${t.offset} is misaligned: ${t.dtype} data starts at multiples of ${BYTES[t.dtype]}`,
      );
    if (!Number.isSafeInteger(t.offset) || t.offset < 0 || t.offset + t.bytes > m.data.bytes) {
      throw new Error(
        `${tw} at offset ${JSON.stringify(t.offset)} (+${t.bytes} bytes) lies outside the ${m.data.bytes}-byte data file`,
      );
    }
    if (!Number.isInteger(t.crc32c) || t.crc32c < 0 || t.crc32c > 0xffffffff)
      throw new Error(`${tw} has no valid crc32c`);
  }
  for (const name of specs.keys()) if (!seen.has(name)) throw new Error(`${where}: tensor "${name}" is missing`);
  return m;
}

/** Far deeper than a manifest (config and meta included) ever nests, far shallower than a stack overflow. */
const MAX_MANIFEST_DEPTH = 64;

/** How deeply a parsed JSON value nests, measured without recursion. */
function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    deepest = Math.max(deepest, depth);
    if (typeof v === 'object' && v !== null) for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Checks the data bytes against the manifest and builds host weights (f16 is widened to f32). */
export function decodeWeights(m: Manifest, data: Uint8Array, dataWhere: string): Weights<AnyConfig> {
  if (data.length !== m.data.bytes) {
    throw new Error(
      `${dataWhere}: ${data.length} bytes, the manifest says ${m.data.bytes} ` +
        `(${data.length < m.data.bytes ? 'truncated' : 'extra bytes'})`,
    );
  }
  const w = new Weights<AnyConfig>(m.config);
  for (const t of m.tensors) {
    const bytes = data.subarray(t.offset, t.offset + t.bytes);
    const got = crc32c(bytes);
    if (got !== t.crc32c) {
      throw new Error(
        `${dataWhere}: tensor "${t.name}" fails its checksum (crc32c ${hex(got)}, manifest ${hex(t.crc32c)}): the ` +
          `file is corrupted`,
      );
    }
    const copy = new Uint8Array(bytes); // a real copy, aligned (Buffer.slice would only be a view)
    const values =
      t.dtype === 'f32' ? new Float32Array(copy.buffer) : Float32Array.from(new Uint16Array(copy.buffer), fromHalf);
    w.set(t.name, t.shape, values);
  }
  w.validate(dataWhere);
  return w;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
