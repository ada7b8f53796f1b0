// Runs the `nsynth` command (or node) in a child process without blocking the test worker.
// A vitest worker answers the runner's messages only between tasks of its event loop; a synchronous
// child (execFileSync) that runs for a minute, as a first generation does while lavapipe compiles
// its kernels on a fresh machine, failed a passing CI run with 'Timeout calling "onTaskUpdate"'.
import { spawn } from 'node:child_process';
import * as path from 'node:path';

export const BIN = path.resolve(__dirname, '../bin/nsynth.js');

export interface Finished {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs `node ARGS` to the end and returns its exit status and output (never throws on failure). */
export function runNode(args: string[], options: RunOptions = {}): Promise<Finished> {
  return runCommand(process.execPath, args, options);
}

/** Runs any command (a shell script, a binary) to the end, as runNode does. */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', reject);
    child.once('close', (status, signal) =>
      resolve({
        status,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** Runs `nsynth ARGS` to the end (never throws on failure). */
export function nsynth(args: string[], options: RunOptions = {}): Promise<Finished> {
  return runNode([BIN, ...args], options);
}

/** Runs `nsynth ARGS` and returns its stdout; a non-zero exit is an error carrying its stderr. */
export async function nsynthOk(args: string[], options: RunOptions = {}): Promise<string> {
  const r = await nsynth(args, options);
  if (r.status !== 0) {
    throw new Error(`nsynth ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr.slice(-4000)}`);
  }
  return r.stdout;
}
