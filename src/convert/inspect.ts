// `inspect`: every tensor of a TF checkpoint, a tfjs model or a weights folder, with its name, dtype,
// shape, size and the state of its checksum (each tensor is read and checked).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeWeights, MANIFEST_NAME, parseManifest } from '../formats/weights-file.js';
import { detectInputKind } from './convert.js';
import { resolveBundlePrefix, TfBundle } from './tf-bundle.js';
import { readTfjsModel } from './tfjs.js';

export interface InspectRow {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
  /** 'ok', 'mismatch: ...', or 'none' for formats without checksums. */
  crc: string;
  extra?: string;
}

export interface InspectReport {
  kind: string;
  path: string;
  header?: unknown;
  rows: InspectRow[];
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
  let bad = '';
  try {
    decodeWeights(m, new Uint8Array(fs.readFileSync(dataPath)), dataPath);
  } catch (err) {
    bad = (err as Error).message;
  }
  for (const t of m.tensors)
    rows.push({
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
      bytes: t.bytes,
      crc: bad?.includes(`"${t.name}"`) ? `error: ${bad}` : bad ? 'unchecked' : 'ok',
    });
  return { kind, path: p, header: { config: m.config.name }, rows };
}
