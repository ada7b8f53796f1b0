// Finishes the declarations tsc wrote to dist/ for publishing; runs after tsc and tools/build-browser.js.
// - Every entry point's .d.ts (the "types" of package.json's exports) gets a reference to @webgpu/types:
//   our declarations name GPUDevice, GPUBuffer ..., which are globals that only @webgpu/types declares,
//   and a consumer's tsc does not load it by itself (its `types` list, a browser project's lib). One
//   reference in any file of a program declares them for all, and every import goes through an entry.
// - dist/browser/nsynth.d.ts, the types of the browser bundle: those of src/browser/index.ts, whose
//   declarations tsc already wrote to dist/src/browser/.
// - A check that no declaration imports `virtual:kernels`: that module exists only inside the bundler
//   (src/types/virtual-kernels.d.ts is not shipped), so a consumer's tsc could not resolve it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REFERENCE = '/// <reference types="@webgpu/types" />';

const browserTypes = path.join(root, 'dist/browser/nsynth.d.ts');
fs.mkdirSync(path.dirname(browserTypes), { recursive: true });
fs.writeFileSync(
  browserTypes,
  `${REFERENCE}\n// The browser bundle (nsynth.js): the Node API, with createEngine taking its kernels from the bundle.\nexport * from '../src/browser/index.js';\n`,
);

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const [entry, target] of Object.entries(pkg.exports)) {
  if (typeof target !== 'object' || typeof target.types !== 'string') continue;
  const file = path.join(root, target.types);
  if (!fs.existsSync(file)) throw new Error(`exports["${entry}"].types: ${target.types} was not built`);
  const text = fs.readFileSync(file, 'utf8');
  if (!text.includes(REFERENCE)) fs.writeFileSync(file, `${REFERENCE}\n${text}`);
}

const bad = [];
const walk = (dir) => {
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) walk(p);
    else if (d.name.endsWith('.d.ts') && fs.readFileSync(p, 'utf8').includes('virtual:')) bad.push(p);
  }
};
walk(path.join(root, 'dist'));
if (bad.length > 0)
  throw new Error(`declarations that import a bundler-only virtual: module (not shippable): ${bad.join(', ')}`);
console.log('built dist/browser/nsynth.d.ts; @webgpu/types referenced from every entry point');
