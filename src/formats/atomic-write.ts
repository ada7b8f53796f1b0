// Atomic writes (Node): a file or a folder is written under a temporary name, flushed, then renamed
// over its target, so a reader or a crash never sees half of it. Weights, checkpoints, WAVs, NPYs
// and converted models all go through here.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * Writes a folder atomically: into a temporary sibling, then renamed over the target. An existing
 * target is replaced only if `mayReplace` says so (by default: only an empty folder); the check runs
 * before any writing and again just before the rename.
 */
export function writeDirAtomic(
  dir: string,
  write: (tmp: string) => void,
  mayReplace: (existing: string) => void = refuseNonEmpty,
): void {
  mayReplace(dir);
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  try {
    write(tmp);
    mayReplace(dir);
    const old = fs.existsSync(dir) ? path.join(parent, `.${path.basename(dir)}.old-${process.pid}`) : null;
    if (old) fs.renameSync(dir, old);
    fs.renameSync(tmp, dir);
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function refuseNonEmpty(dir: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`${dir} exists and is not a folder`);
  }
  if (entries.length) throw new Error(`${dir} exists and is not empty; choose another folder, or remove it first`);
}
