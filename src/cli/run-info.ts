// What a measurement was made with: the package version, the git commit of the checkout it ran
// from (null for an installed package), Node's version and the moment, so benchmark rows from
// different runs and machines can be told apart.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../util/package-root.js';

/** The version in the package's own package.json. */
export function packageVersion(): string {
  const file = path.join(packageRoot(), 'package.json');
  const version = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error(`${file}: no version`);
  return version;
}

/** The commit checked out at the package root, or null outside a git checkout (or without git). */
export function gitCommit(): string | null {
  const root = packageRoot();
  // An installed package inside someone else's repository must not report that repository's commit.
  if (!fs.existsSync(path.join(root, '.git'))) return null;
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    return /^[0-9a-f]{40}$/.test(out.trim()) ? out.trim() : null;
  } catch {
    return null;
  }
}

export interface RunInfo {
  version: string;
  commit: string | null;
  node: string;
  adapter: string;
  timestamp: string;
}

/** The provenance a benchmark row carries. */
export function runInfo(adapter: string, at = new Date()): RunInfo {
  return {
    version: packageVersion(),
    commit: gitCommit(),
    node: process.version,
    adapter,
    timestamp: at.toISOString(),
  };
}
