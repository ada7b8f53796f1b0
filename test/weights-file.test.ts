// The weights format: a save/load round trip gives the same model; every kind of damage is an
// error that names the file and the tensor, raised before any GPU memory is allocated.
import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testEngine } from './helpers.js';
import { nsynth } from './cli-run.js';
import { inspect } from '../src/convert/inspect.js';
import { loadModel, loadWeights, randomModel } from '../src/nsynth.js';
import { readWeightsDir, writeWeightsDir } from '../src/formats/weights-node.js';
import { initWeights } from '../src/model/weights.js';
import { getConfig } from '../src/model/config.js';
import { crc32c, maskCrc, unmaskCrc } from '../src/util/crc32c.js';
import { toHalf, fromHalf } from '../src/formats/half.js';
import type { Manifest, ManifestTensor } from '../src/formats/weights-file.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-weights-'));
const good = path.join(tmp, 'good');

function copyOf(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(good)) fs.copyFileSync(path.join(good, f), path.join(dir, f));
  return dir;
}
function editManifest(dir: string, edit: (m: Manifest) => void): void {
  const p = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(p, 'utf8'));
  edit(m);
  fs.writeFileSync(p, JSON.stringify(m));
}

beforeAll(() => {
  writeWeightsDir(good, initWeights(getConfig('tiny'), 21, { biasScale: 0.1 }));
});

describe('CRC-32C', () => {
  it('matches the published check values and TF masking round-trips', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    const c = crc32c(new TextEncoder().encode('hello world, a longer input that crosses the 8-byte blocks'));
    expect(unmaskCrc(maskCrc(c))).toBe(c);
  });
});

describe('weights folders', () => {
  it('save -> load gives a model with identical outputs', async () => {
    const e = await testEngine();
    const a = await randomModel(e, 'tiny', 5, { biasScale: 0.1 });
    const dir = path.join(tmp, 'saved');
    await a.save(dir);
    const b = await loadModel(e, dir);
    const audio = Float32Array.from({ length: 1024 }, (_, t) => Math.sin(t / 5) * 0.5);
    const ea = await a.encode(audio);
    const eb = await b.encode(audio);
    expect(eb.data).toEqual(ea.data);
    expect((await b.teacherForcedLogits(audio, eb)).data).toEqual((await a.teacherForcedLogits(audio, ea)).data);
    expect(fs.readdirSync(dir).sort()).toEqual(['manifest.json', 'weights.bin']); // no temporary files left
    a.dispose();
    b.dispose();
  });

  it('f16 storage halves the file and rounds each value to the nearest half', () => {
    const w = initWeights(getConfig('tiny'), 3);
    const dir = path.join(tmp, 'half');
    writeWeightsDir(dir, w, 'f16');
    expect(fs.statSync(path.join(dir, 'weights.bin')).size).toBeLessThan(
      fs.statSync(path.join(good, 'weights.bin')).size / 1.9,
    );
    const back = readWeightsDir(dir);
    const x = w.get('dilatedconv_3/W').data;
    const y = back.get('dilatedconv_3/W').data;
    for (let i = 0; i < x.length; i++)
      expect(Math.abs(x[i] - y[i])).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -11 + 2 ** -25);
    expect(fromHalf(toHalf(1))).toBe(1);
    expect(fromHalf(toHalf(65504))).toBe(65504);
    expect(fromHalf(toHalf(1e6))).toBe(Infinity);
  });

  it('a truncated data file is refused, naming the file', () => {
    const dir = copyOf('truncated');
    const f = path.join(dir, 'weights.bin');
    fs.truncateSync(f, fs.statSync(f).size - 100);
    expect(() => readWeightsDir(dir)).toThrow(
      new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \\d+ bytes, the manifest says \\d+ \\(truncated\\)`),
    );
  });

  it('`nsynth inspect` on a truncated or NaN-holding folder names the failing tensors and exits 1', async () => {
    const dir = copyOf('inspect-truncated');
    const f = path.join(dir, 'weights.bin');
    fs.truncateSync(f, fs.statSync(f).size - 100);
    const report = await inspect(dir);
    const failing = report.rows.filter((r) => r.crc.startsWith('error'));
    expect(failing.length).toBeGreaterThan(0);
    expect(failing[0].crc).toMatch(/error: the data file ends at byte \d+, this tensor needs bytes \d+-\d+/);
    expect(report.rows.filter((r) => r.crc === 'ok').length).toBe(report.rows.length - failing.length);
    expect(report.problems![0]).toMatch(/weights\.bin: \d+ bytes, the manifest says \d+ \(truncated\)/);
    const r = await nsynth(['inspect', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`${failing.length + 1} failures`));
    expect(r.stderr).toMatch(/fail their checks/);
    const json = JSON.parse((await nsynth(['inspect', dir, '--json'])).stdout);
    expect(json.failures).toBe(failing.length + 1);
  });

  it('a flipped byte is caught by the checksum of the tensor that holds it', () => {
    const dir = copyOf('flipped');
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const victim = m.tensors.find((t: ManifestTensor) => t.name === 'res_3/W');
    const f = path.join(dir, 'weights.bin');
    const bytes = fs.readFileSync(f);
    bytes[victim.offset + 17] ^= 0x10;
    fs.writeFileSync(f, bytes);
    expect(() => readWeightsDir(dir)).toThrow(/weights\.bin: tensor "res_3\/W" fails its checksum/);
  });

  it('NaN or infinite weights with valid checksums are refused at load, and never written', async () => {
    const dir = copyOf('nan');
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const victim = m.tensors.find((t: ManifestTensor) => t.name === 'res_3/W');
    const f = path.join(dir, 'weights.bin');
    const bytes = fs.readFileSync(f);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setFloat32(victim.offset + 4 * 4, Number.NaN, true);
    view.setFloat32(victim.offset + 4 * 9, Number.POSITIVE_INFINITY, true);
    fs.writeFileSync(f, bytes);
    victim.crc32c = crc32c(bytes.subarray(victim.offset, victim.offset + victim.bytes));
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
    expect((await inspect(dir)).rows.find((r) => r.name === 'res_3/W')!.crc).toBe('error: holds NaN at element 4');
    expect(() => readWeightsDir(dir)).toThrow(
      /weights\.bin: tensor "res_3\/W" holds NaN at element 4 \(2 non-finite of \d+\): the weights are unusable/,
    );
    const w = initWeights(getConfig('tiny'), 3);
    w.get('logits/biases').data[7] = Number.NEGATIVE_INFINITY;
    expect(() => writeWeightsDir(path.join(tmp, 'never'), w)).toThrow(
      /tensor "logits\/biases" holds -Infinity at element 7/,
    );
    expect(fs.existsSync(path.join(tmp, 'never', 'manifest.json'))).toBe(false);
  });

  it('manifest damage: bad JSON, wrong shape, range past the end, missing tensor, unknown tensor', () => {
    const bad = copyOf('badjson');
    fs.writeFileSync(path.join(bad, 'manifest.json'), '{"format": "nsynth-webgpu-weights", ');
    expect(() => readWeightsDir(bad)).toThrow(/manifest\.json: not valid JSON/);

    const shape = copyOf('shape');
    editManifest(shape, (m) => {
      m.tensors.find((t: ManifestTensor) => t.name === 'skip_2/W')!.shape = [1, 1, 32, 16];
    });
    expect(() => readWeightsDir(shape)).toThrow(
      /tensor "skip_2\/W" has shape \[1,1,32,16\], config tiny needs \[1,1,32,32\]/,
    );

    const range = copyOf('range');
    editManifest(range, (m) => (m.tensors[5].offset = m.data.bytes - 8));
    expect(() => readWeightsDir(range)).toThrow(/lies outside the \d+-byte data file/);

    const missing = copyOf('missing');
    editManifest(missing, (m) => (m.tensors = m.tensors.filter((t: ManifestTensor) => t.name !== 'logits/biases')));
    expect(() => readWeightsDir(missing)).toThrow(/tensor "logits\/biases" is missing/);

    const extra = copyOf('extra');
    editManifest(extra, (m) => m.tensors.push({ ...m.tensors[0], name: 'nsynth/mystery' }));
    expect(() => readWeightsDir(extra)).toThrow(/tensor "nsynth\/mystery" is not part of config tiny/);

    const huge = copyOf('huge');
    editManifest(huge, (m) => (m.data.bytes = 2 ** 60));
    expect(() => readWeightsDir(huge)).toThrow(/data\.bytes|bytes, the manifest says/);

    expect(() => readWeightsDir(path.join(tmp, 'nowhere'))).toThrow(/no weights manifest here/);
  });

  it('loadWeights rejects a corrupted folder before creating any GPU buffer', async () => {
    const e = await testEngine();
    const dir = copyOf('flipped2');
    const f = path.join(dir, 'weights.bin');
    const bytes = fs.readFileSync(f);
    bytes[bytes.length - 3] ^= 1;
    fs.writeFileSync(f, bytes);
    const before = e.pool.stats().live;
    await expect(loadModel(e, dir)).rejects.toThrow(/fails its checksum/);
    expect(e.pool.stats().live).toBe(before);
    await expect(loadWeights(dir)).rejects.toThrow(/tensor "logits\/biases" fails its checksum/);
  });
});
