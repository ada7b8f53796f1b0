// Atomic writes (Node): a file or a folder is written under a temporary name, flushed, then renamed
// over its target, so a reader or a crash never sees half of it. Weights, checkpoints, WAVs, NPYs
// and converted models all go through here.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  writeFilesAtomic([{ file, data }]);
}

/**
 * Writes several files as one: every file goes to a temporary name first, and only when all of them
 * are written are they renamed into place. A failure leaves none of them and no temporary behind
 * (a batch of voices is either all there or not at all).
 */
export function writeFilesAtomic(
  files: { file: string; data: Uint8Array | string }[],
  o: { shared?: boolean } = {},
): void {
  const written: string[] = [];
  try {
    for (const { file, data } of files) {
      if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new Error(`${file}: is a folder`);
      // On a folder that processes on other machines write to (`shared`: bulk rendering's shards on
      // NFS, pods that are all PID 1), a PID names no one: temporaries get a random part and are not
      // swept by PID, so two writers of the same file never touch each other's.
      if (!o.shared) sweepStaleFiles(file);
      const tmp = o.shared ? `${file}.${randomBytes(6).toString('hex')}.shared-tmp` : `${file}.${process.pid}.tmp`;
      const fd = fs.openSync(tmp, 'w');
      written.push(tmp);
      try {
        fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    for (let i = 0; i < files.length; i++) fs.renameSync(written[i], files[i].file);
  } catch (e) {
    for (const tmp of written) fs.rmSync(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    if (err.code && err.path)
      throw new Error(`${err.path.replace(/\.(\d+\.tmp|[0-9a-f]+\.shared-tmp)$/, '')}: cannot write (${err.code})`);
    throw e;
  }
}

/** The first ancestor of `dir` (or `dir`) that exists as a file, where a folder is needed. */
function fileOnTheWay(dir: string): string | null {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(d)) return fs.statSync(d).isDirectory() ? null : d;
    if (path.dirname(d) === d) return null;
  }
}

/**
 * Checks before any work that `file` can be written: its folder is created if missing (as every
 * command does), and the file itself must not be a folder.
 */
export function prepareOutputFile(file: string): void {
  const dir = path.dirname(path.resolve(file));
  if (/[/\\]$/.test(file)) throw new Error(`${file}: names a folder (it ends with a slash); give a file name`);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const blocking = code === 'EEXIST' || code === 'ENOTDIR' ? fileOnTheWay(dir) : null;
    if (blocking) throw new Error(`${file}: ${blocking} is a file, not a folder`);
    throw new Error(`${file}: cannot create its folder (${code ?? (e as Error).message})`);
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new Error(`${file}: is a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new Error(`${file}: its folder is not writable`);
  }
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
  sweepStaleSiblings(parent, path.basename(dir));
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

/**
 * Removes what writers that were killed left in `dir` (their processes are gone): the entries for
 * which `pidOf` names a writer's PID. Five killed conversions once left 438 MB.
 */
function sweepDeadTemporaries(dir: string, pidOf: (entry: string) => number | null): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return; // the write itself will report the folder
  }
  for (const entry of entries) {
    const pid = pidOf(entry);
    if (pid === null || pid === process.pid || alive(pid)) continue;
    fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
}

/** The folders `.NAME.tmp-PID` and `.NAME.old-PID` of writeDirAtomic. */
function sweepStaleSiblings(parent: string, name: string): void {
  sweepDeadTemporaries(parent, (entry) => {
    const m = /^\.(.+)\.(?:tmp|old)-(\d+)$/.exec(entry);
    return m && m[1] === name ? Number(m[2]) : null;
  });
}

/** The files `FILE.PID.tmp` of writeFilesAtomic. */
function sweepStaleFiles(file: string): void {
  const base = path.basename(file);
  sweepDeadTemporaries(path.dirname(path.resolve(file)), (entry) => {
    const m = /^(.+)\.(\d+)\.tmp$/.exec(entry);
    return m && m[1] === base ? Number(m[2]) : null;
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
