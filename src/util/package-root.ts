// The package's root folder (the one with package.json and kernels/), found from this module's own
// location, so the kernels and the benchmark's NumPy script are found from src/ (tests), dist/ (the
// build) and an installed package alike. Node only.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as url from 'node:url';

export function packageRoot(): string {
  const here = url.fileURLToPath(import.meta.url);
  let dir = path.dirname(here);
  while (!fs.existsSync(path.join(dir, 'kernels')) || !fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir)
      throw new Error(`Cannot find the package root (a folder with package.json and kernels/) above ${here}`);
    dir = up;
  }
  return dir;
}
