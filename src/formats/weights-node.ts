// Reading and writing weights folders on disk (Node). Writes are atomic: temporary files, fsync,
// then rename, data before manifest, so a crash never leaves a manifest pointing at half a file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeWeights, encodeWeights, parseManifest, MANIFEST_NAME, type StoredDType } from './weights-file.js';
import { type AnyConfig, type Weights, waveNetWeights } from '../model/weights.js';
import { writeFileAtomic } from './atomic-write.js';

/** A WaveNet weights folder (a baseline's is refused by name). */
export function readWeightsDir(dir: string): Weights {
  return waveNetWeights(readAnyWeightsDir(dir), dir);
}

/** A weights folder of either architecture. */
export function readAnyWeightsDir(dir: string): Weights<AnyConfig> {
  const manifestPath = path.join(dir, MANIFEST_NAME);
  if (!fs.existsSync(manifestPath))
    throw new Error(`${manifestPath}: no weights manifest here (is ${dir} a model folder?)`);
  const m = parseManifest(fs.readFileSync(manifestPath, 'utf8'), manifestPath);
  const dataPath = path.join(dir, m.data.file);
  let size: number;
  try {
    size = fs.statSync(dataPath).size;
  } catch {
    throw new Error(`${dataPath}: missing (named by ${manifestPath})`);
  }
  // Check the size before reading, so a wrong file is never loaded whole.
  if (size !== m.data.bytes)
    throw new Error(
      `${dataPath}: ${size} bytes, the manifest says ${m.data.bytes} ` +
        `(${size < m.data.bytes ? 'truncated' : 'extra bytes'})`,
    );
  return decodeWeights(m, new Uint8Array(fs.readFileSync(dataPath)), dataPath);
}

export function writeWeightsDir(
  dir: string,
  w: Weights<AnyConfig>,
  dtype: StoredDType = 'f32',
  meta?: Record<string, unknown>,
): void {
  fs.mkdirSync(dir, { recursive: true });
  const { manifest, data } = encodeWeights(w, dtype, meta);
  writeFileAtomic(path.join(dir, manifest.data.file), data);
  writeFileAtomic(path.join(dir, MANIFEST_NAME), `${JSON.stringify(manifest, null, 1)}\n`);
  try {
    const dfd = fs.openSync(dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    // fsync on a directory is not supported everywhere; the renames are still atomic.
  }
}
