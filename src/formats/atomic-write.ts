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

/** Writes a folder atomically: into a temporary sibling, then renamed over the target. */
export function writeDirAtomic(dir: string, write: (tmp: string) => void): void {
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  try {
    write(tmp);
    const old = fs.existsSync(dir) ? path.join(parent, `.${path.basename(dir)}.old-${process.pid}`) : null;
    if (old) fs.renameSync(dir, old);
    fs.renameSync(tmp, dir);
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
