// `inspect`: every tensor of a TF checkpoint, a tfjs model or a weights folder, with its name, dtype,
// shape, size and the state of its checksum (each tensor is read and checked).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_NAME, type ManifestTensor, parseManifest } from '../formats/weights-file.js';
import { fromHalf } from '../formats/half.js';
import { crc32c } from '../util/crc32c.js';
import { detectInputKind } from './convert.js';
import { resolveBundlePrefix, TfBundle } from './tf-bundle.js';
import { readTfjsModel } from './tfjs.js';

export interface InspectRow {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
  /** 'ok', 'error: ...', or 'none' for formats without checksums. */
  crc: string;
  extra?: string;
}

export interface InspectReport {
  kind: string;
  path: string;
  header?: unknown;
  rows: InspectRow[];
  /** Problems of the whole file rather than of one tensor (a weights.bin of the wrong size). */
  problems?: string[];
}

/** Every tensor of a TF checkpoint, a tfjs model or one of our weights folders, each read and checked. */
export async function inspect(p: string): Promise<InspectReport> {
  const kind = detectInputKind(p);
  const rows: InspectRow[] = [];
  if (kind === 'tf-checkpoint') {
    const b = new TfBundle(resolveBundlePrefix(p));
    try {
      for (const e of b.entries.values()) {
        let crc = 'ok';
        try {
          b.readBytes(e.name);
        } catch (err) {
          crc = `error: ${(err as Error).message}`;
        }
        rows.push({ name: e.name, dtype: e.dtypeName, shape: e.shape, bytes: e.size, crc });
      }
      return {
        kind,
        path: b.prefix,
        header: { ...b.header, blockCompression: b.blockTypes.map((t) => (t ? 'snappy' : 'none')) },
        rows,
      };
    } finally {
      b.close();
    }
  }
  if (kind === 'tfjs') {
    const m = await readTfjsModel(p);
    for (const t of m.tensors)
      rows.push({
        name: t.name,
        dtype: t.dtype,
        shape: t.shape,
        bytes: t.bytes,
        crc: 'none',
        extra: t.quantization ? `quantized ${t.quantization}` : undefined,
      });
    return { kind, path: m.modelJson, header: { format: m.format }, rows };
  }
  const manifestPath = path.join(p, MANIFEST_NAME);
  const m = parseManifest(fs.readFileSync(manifestPath, 'utf8'), manifestPath);
  const dataPath = path.join(p, m.data.file);
  let data: Uint8Array;
  try {
    data = new Uint8Array(fs.readFileSync(dataPath));
  } catch (err) {
    throw new Error(`${dataPath}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  // Each tensor on its own, so that a truncated file fails exactly the tensors it cuts off.
  for (const t of m.tensors)
    rows.push({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.bytes, crc: tensorState(t, data) });
  const problems =
    data.length === m.data.bytes
      ? []
      : [
          `${dataPath}: ${data.length} bytes, the manifest says ${m.data.bytes} ` +
            `(${data.length < m.data.bytes ? 'truncated' : 'extra bytes'})`,
        ];
  return { kind, path: p, header: { config: m.config.name }, rows, problems };
}

/** 'ok' or 'error: ...' for one tensor of a weights folder: in the file, its checksum, finite values. */
function tensorState(t: ManifestTensor, data: Uint8Array): string {
  if (t.offset + t.bytes > data.length)
    return `error: the data file ends at byte ${data.length}, this tensor needs bytes ${t.offset}-${t.offset + t.bytes}`;
  const bytes = data.subarray(t.offset, t.offset + t.bytes);
  const got = crc32c(bytes);
  if (got !== t.crc32c) return `error: checksum mismatch (crc32c ${got}, manifest ${t.crc32c})`;
  const copy = new Uint8Array(bytes);
  const values = t.dtype === 'f32' ? new Float32Array(copy.buffer) : Array.from(new Uint16Array(copy.buffer), fromHalf);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  return bad < 0 ? 'ok' : `error: holds ${values[bad]} at element ${bad}`;
}
