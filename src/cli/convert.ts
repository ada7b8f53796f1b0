// `nsynth convert` and `nsynth inspect`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import cliProgress from 'cli-progress';
import { convertToWeights, detectInputKind, readNameMap, writeDirAtomic } from '../io/convert.js';
import { resolveBundlePrefix, TfBundle } from '../io/tf-bundle.js';
import { readTfjsModel, writeTfjsWeights } from '../io/tfjs.js';
import { writeFileAtomic, writeWeightsDir } from '../io/weights-node.js';
import { decodeWeights, MANIFEST_NAME, parseManifest } from '../io/weights-file.js';

export interface ConvertCliOptions {
  out: string;
  ema?: boolean;
  dtype: string;
  map?: string;
  to: string;
  layersPerStage?: number;
  quiet?: boolean;
}

export async function runConvert(input: string, o: ConvertCliOptions): Promise<string> {
  if (o.dtype !== 'f32' && o.dtype !== 'f16') throw new Error(`--dtype must be f32 or f16, got ${o.dtype}`);
  if (o.to !== 'nsynth' && o.to !== 'tfjs') throw new Error(`--to must be nsynth or tfjs, got ${o.to}`);
  const bar = o.quiet || !process.stderr.isTTY
    ? null
    : new cliProgress.SingleBar({ format: 'converting |{bar}| {percentage}% | {value}/{total} MB', hideCursor: true }, cliProgress.Presets.shades_classic);
  let started = false;
  const { weights, report } = await convertToWeights(input, {
    ema: o.ema, map: o.map ? readNameMap(o.map) : undefined, layersPerStage: o.layersPerStage,
    onProgress: (done, total) => {
      if (!bar) return;
      if (!started) {
        bar.start(Math.ceil(total / 1e6), 0);
        started = true;
      }
      bar.update(Math.round(done / 1e6));
    },
  });
  bar?.stop();
  const meta = { convertedFrom: report.source, kind: report.kind, ema: !!o.ema };
  if (o.to === 'tfjs') {
    writeDirAtomic(o.out, (tmp) => writeTfjsWeights(tmp, weights, { dtype: o.dtype as 'f32' | 'f16', writeFile: writeFileAtomic }));
  } else {
    writeDirAtomic(o.out, (tmp) => writeWeightsDir(tmp, weights, o.dtype as 'f32' | 'f16', meta));
  }
  const skipped = report.skipped
    ? `; skipped ${report.skipped.optimizer.length} optimizer slots, ${report.skipped.ema.length + report.skipped.raw.length} ${o.ema ? 'raw variables' : 'EMA shadows'}${report.skipped.other.length ? `, ${report.skipped.other.length} other tensors` : ''}`
    : '';
  return `wrote ${o.out} (${o.to === 'tfjs' ? 'tfjs weights manifest' : 'nsynth weights'}, ${o.dtype}): config ${report.config}, ${report.tensors} tensors from ${report.kind} ${report.source}${skipped}`;
}

export interface InspectRow {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
  /** 'ok', 'mismatch: ...', or 'none' for formats without checksums. */
  crc: string;
  extra?: string;
}

export async function inspect(p: string): Promise<{ kind: string; path: string; header?: unknown; rows: InspectRow[] }> {
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
      return { kind, path: b.prefix, header: { ...b.header, blockCompression: b.blockTypes.map((t) => (t ? 'snappy' : 'none')) }, rows };
    } finally {
      b.close();
    }
  }
  if (kind === 'tfjs') {
    const m = await readTfjsModel(p);
    for (const t of m.tensors) rows.push({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.bytes, crc: 'none', extra: t.quantization ? `quantized ${t.quantization}` : undefined });
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
  for (const t of m.tensors) rows.push({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.bytes, crc: bad && bad.includes(`"${t.name}"`) ? `error: ${bad}` : bad ? 'unchecked' : 'ok' });
  return { kind, path: p, header: { config: m.config.name }, rows };
}

export async function runInspect(p: string, json: boolean): Promise<number> {
  const r = await inspect(p);
  const failures = r.rows.filter((x) => x.crc.startsWith('error')).length;
  if (json) {
    console.log(JSON.stringify({ ...r, failures }, null, 1));
  } else {
    console.log(`${r.kind}: ${r.path}${r.header ? `  ${JSON.stringify(r.header)}` : ''}`);
    const w = Math.min(90, Math.max(4, ...r.rows.map((x) => x.name.length)));
    for (const x of r.rows) console.log(`${x.name.padEnd(w)}  ${x.dtype.padEnd(8)} ${`[${x.shape.join(', ')}]`.padEnd(22)} ${String(x.bytes).padStart(10)}  ${x.crc}${x.extra ? `  ${x.extra}` : ''}`);
    console.log(`${r.rows.length} tensors, ${r.rows.reduce((n, x) => n + x.bytes, 0)} bytes, ${failures} checksum failures`);
  }
  return failures;
}
