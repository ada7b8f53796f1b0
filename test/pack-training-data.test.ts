// tools/pack-training-data.mjs: a training set packed as mu-law classes and unpacked again gives
// every note the same classes (all the model reads of a note) and the same examples.json; a
// damaged file is refused with its name and the problem.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWav16k } from '../src/formats/wav.js';
import { muLawQuantizeArray } from '../src/ops/mu-law.js';

const ROOT = path.resolve(__dirname, '..');
const NOTES = path.resolve(ROOT, '../shared/data/nsynth');
const have = fs.existsSync(path.join(NOTES, 'examples.json'));

function tool(...args: string[]) {
  return spawnSync(process.execPath, [path.join(ROOT, 'tools/pack-training-data.mjs'), ...args], { encoding: 'utf8' });
}

describe.skipIf(!have)('tools/pack-training-data.mjs', () => {
  if (!have) console.warn(`skipped: ${NOTES} (the shared test notes) is missing`);

  it("pack then unpack keeps every note's mu-law classes and examples.json; damage is refused", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pack-data-'));
    const all = JSON.parse(fs.readFileSync(path.join(NOTES, 'examples.json'), 'utf8')) as Record<string, unknown>;
    const keys = Object.keys(all).sort();
    const splits = { train: keys.slice(0, 5), valid: keys.slice(5) };
    for (const [split, names] of Object.entries(splits)) {
      fs.mkdirSync(path.join(dir, 'data', split, 'audio'), { recursive: true });
      for (const k of names)
        fs.copyFileSync(path.join(NOTES, `${k}.wav`), path.join(dir, 'data', split, 'audio', `${k}.wav`));
      fs.writeFileSync(
        path.join(dir, 'data', split, 'examples.json'),
        JSON.stringify(Object.fromEntries(names.map((k) => [k, all[k]]))),
      );
    }
    const packed = path.join(dir, 'packed.bin');
    const p = tool('pack', path.join(dir, 'data'), packed);
    expect(p.status, p.stderr).toBe(0);
    // one byte a sample plus a header
    const samples = keys.reduce((n, k) => n + readWav16k(path.join(NOTES, `${k}.wav`)).length, 0);
    expect(fs.statSync(packed).size).toBeGreaterThan(samples);
    expect(fs.statSync(packed).size).toBeLessThan(samples + 64 * 1024);

    const u = tool('unpack', packed, path.join(dir, 'out'));
    expect(u.status, u.stderr).toBe(0);
    for (const [split, names] of Object.entries(splits)) {
      const examples = JSON.parse(fs.readFileSync(path.join(dir, 'out', split, 'examples.json'), 'utf8'));
      expect(Object.keys(examples).sort()).toEqual(names);
      for (const k of names) expect(examples[k]).toEqual(all[k]);
      for (const k of names) {
        const before = muLawQuantizeArray(readWav16k(path.join(NOTES, `${k}.wav`))).classes;
        const after = muLawQuantizeArray(readWav16k(path.join(dir, 'out', split, 'audio', `${k}.wav`))).classes;
        expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer)), `${split}/${k}`).toBe(true);
      }
    }

    const bytes = fs.readFileSync(packed);
    fs.writeFileSync(path.join(dir, 'short.bin'), bytes.subarray(0, bytes.length - 100));
    const short = tool('unpack', path.join(dir, 'short.bin'), path.join(dir, 'out2'));
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/short\.bin: .* runs past the end/);
    fs.writeFileSync(path.join(dir, 'junk.bin'), Buffer.from('not a packed set at all'));
    const junk = tool('unpack', path.join(dir, 'junk.bin'), path.join(dir, 'out3'));
    expect(junk.status).toBe(1);
    expect(junk.stderr).toMatch(/junk\.bin: not a packed training set/);
    // a header that names paths outside the output folder, or lengths that are not lengths
    const hostile = (splits: unknown) => {
      const json = Buffer.from(JSON.stringify({ splits }));
      const head = Buffer.alloc(12);
      head.write('NSMULAW1', 0, 'latin1');
      head.writeUInt32LE(json.length, 8);
      return Buffer.concat([head, json, Buffer.alloc(16)]);
    };
    for (const [splits, why] of [
      [{ '../escaped': { examples: {}, notes: [] } }, /unknown split/],
      [{ train: { examples: {}, notes: [{ key: '../../evil', length: 16 }] } }, /bad note name/],
      [{ train: { examples: {}, notes: [{ key: '..', length: 16 }] } }, /bad note name/],
      [{ train: { examples: {}, notes: [{ key: 'a', length: -4 }] } }, /bad length/],
      [{ train: { examples: {}, notes: [{ key: 'a', length: '16' }] } }, /bad length/],
    ] as const) {
      fs.writeFileSync(path.join(dir, 'hostile.bin'), hostile(splits));
      const h = tool('unpack', path.join(dir, 'hostile.bin'), path.join(dir, 'deep', 'out4'));
      expect(h.status, JSON.stringify(splits)).toBe(1);
      expect(h.stderr).toMatch(why);
    }
    expect(fs.existsSync(path.join(dir, 'escaped'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'evil.wav'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
