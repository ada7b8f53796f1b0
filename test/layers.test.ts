// The layering of src/: each folder imports only from the folders below it (README, "How the code
// is laid out"). A static check of every relative import, so a shortcut across layers fails here
// instead of growing quietly.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '..', 'src');

/** Lowest first; a module may import from its own layer and any earlier one. */
const LAYERS = [
  'types',
  'util',
  'stream',
  'gpu',
  'ops',
  'model',
  'dsp',
  'formats',
  'dataset',
  'graph',
  'autoencoder',
  'generate',
  'train',
  'convert',
  'nsynth.ts',
  'index.ts',
  'node.ts',
  'eval',
  'render',
  'bench',
  'cli',
  'browser',
];

function layerOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0];
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('layers', () => {
  it('every module of src/ imports only from its own layer or the ones below', () => {
    const wrong: string[] = [];
    const files = sources(SRC);
    for (const file of files) {
      const from = LAYERS.indexOf(layerOf(file));
      expect(from, `${path.relative(SRC, file)} is in no known layer`).toBeGreaterThanOrEqual(0);
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = path.resolve(path.dirname(file), m[1]);
        const to = LAYERS.indexOf(layerOf(target));
        if (to > from)
          wrong.push(`${path.relative(SRC, file)} imports ${m[1]} (${LAYERS[to]} is above ${LAYERS[from]})`);
      }
    }
    expect(files.length).toBeGreaterThan(50);
    expect(wrong).toEqual([]);
  });
});
