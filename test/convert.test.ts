// Checkpoint and model conversion: the TF bundle reader on real TensorFlow files (checked against
// the independent listings in ../shared/data), tfjs import on real tfjs models, round trips
// through our own TF-bundle writer (Magenta naming) and tfjs export, bad input, and a fuzz test.
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testEngine, rng } from './helpers.js';
import { nsynth, nsynthOk } from './cli-run.js';
import { writeBundle, writeBundleBytes, f32Bytes, resealBlock, type BundleTensor } from './tf-bundle-writer.js';
import { TfBundle, resolveBundlePrefix } from '../src/convert/tf-bundle.js';
import { readTfjsModel, dilatedConvs, writeTfjsWeights } from '../src/convert/tfjs.js';
import { convertToWeights } from '../src/convert/convert.js';
import { snappyDecompress, snappyLiteralEncode } from '../src/convert/snappy.js';
import { initWeights, type Weights } from '../src/model/weights.js';
import { getConfig } from '../src/model/config.js';
import { modelFromWeights, loadModel } from '../src/nsynth.js';
import { readWeightsDir } from '../src/formats/weights-node.js';
import { writeFileAtomic } from '../src/formats/atomic-write.js';
import { fromHalf, toHalf } from '../src/formats/half.js';

const DATA = path.resolve(__dirname, '../../shared/data');
const CKPT = path.join(DATA, 'tf-checkpoints');
const TFJS = path.join(DATA, 'tfjs-models');
const haveData = fs.existsSync(CKPT) && fs.existsSync(TFJS);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-convert-'));

function needData(ctx: { skip: () => void }): void {
  if (!haveData) {
    console.warn(`skipped: ${DATA} is absent (CI always has ../shared/data)`);
    ctx.skip();
  }
}

/** Rows of a _derived_*.tsv: tab-separated, '#' lines are comments. */
function tsv(file: string): string[][] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'));
}

function firstAndSum(field: string): { first: number[]; sum: number | null } {
  const first = JSON.parse(/first=(\[[^\]]*\])/.exec(field)![1]) as number[];
  const m = /sum=(\S+)/.exec(field);
  return { first, sum: m ? Number(m[1]) : null };
}

describe('TF checkpoint reader on real TensorFlow files', () => {
  for (const dir of ['mnist-cnn-tf1', 'rust-regression_savedmodel-tf2', 'serving-saved_model_half_plus_two_cpu']) {
    it(`${dir}: every tensor listed with its name, dtype, shape, offset and CRC; values match`, (ctx) => {
      needData(ctx);
      const b = new TfBundle(resolveBundlePrefix(path.join(CKPT, dir)));
      const listing = tsv(path.join(CKPT, dir, '_derived_index_listing.tsv'));
      expect([...b.entries.keys()]).toEqual(listing.map((r) => r[0]));
      for (const [name, dtype, shape, shard, offset, size, crc] of listing) {
        const e = b.entry(name);
        expect(e.dtypeName, name).toBe(dtype);
        expect(JSON.stringify(e.shape)).toBe(shape.replace(/ /g, ''));
        expect(`shard=${e.shard}`).toBe(shard);
        expect(`offset=${e.offset}`).toBe(offset);
        expect(`size=${e.size}`).toBe(size);
        expect(`crc32c_masked=0x${e.crc32c.toString(16).padStart(8, '0')}`).toBe(crc);
        expect(() => b.readBytes(name)).not.toThrow();
      }
      for (const [name, , , values] of tsv(path.join(CKPT, dir, '_derived_values.tsv'))) {
        const v = Array.from(b.read(name) as ArrayLike<number>);
        const { first, sum } = firstAndSum(values);
        first.forEach((x, i) => {
          expect(v[i], name).toBeCloseTo(x, 5);
        });
        if (sum !== null)
          expect(
            v.reduce((a, c) => a + c, 0),
            name,
          ).toBeCloseTo(sum, 2);
      }
      if (dir.startsWith('serving')) expect(b.blockTypes).toEqual([1]); // the Snappy bundle
      if (dir.startsWith('rust')) {
        const s = b.read('_CHECKPOINTABLE_OBJECT_GRAPH') as Uint8Array[];
        expect(s.length).toBe(1);
        expect(s[0].length).toBe(531); // a serialized object graph, checked by TF's string CRC rule
        expect(b.read('optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE')).toEqual([0]);
      }
      b.close();
    });
  }

  it('decodes float16, bfloat16, int32 and int64 tensors (written by our bundle writer)', () => {
    const vals = [1.5, -2.25, 65504, 0.000061035156];
    const half = new Uint8Array(Uint16Array.from(vals, toHalf).buffer);
    const bf = new Uint8Array(
      Uint16Array.from(new Uint32Array(Float32Array.from(vals).buffer), (u) => u >>> 16).buffer,
    );
    const i64 = new Uint8Array(BigInt64Array.of(-5n, 1n << 40n).buffer);
    const prefix = path.join(tmp, 'dtypes');
    writeBundle(
      prefix,
      new Map<string, BundleTensor>([
        ['h', { dtype: 19, shape: [4], bytes: half }],
        ['bf', { dtype: 14, shape: [2, 2], bytes: bf }],
        ['i', { dtype: 3, shape: [2], bytes: new Uint8Array(Int32Array.of(-7, 9).buffer) }],
        ['l', { dtype: 9, shape: [2], bytes: i64 }],
      ]),
    );
    const b = new TfBundle(prefix);
    expect(Array.from(b.read('h') as Float32Array)).toEqual(vals.map((v) => fromHalf(toHalf(v))));
    expect(Array.from(b.read('bf') as Float32Array)).toEqual(
      [1.5, -2.25, 65280, Math.fround(0.000061035156)].map(
        (v) => new Float32Array(Uint32Array.of(new Uint32Array(Float32Array.of(v).buffer)[0] & 0xffff0000).buffer)[0],
      ),
    );
    expect(Array.from(b.read('i') as Int32Array)).toEqual([-7, 9]);
    expect(b.read('l')).toEqual([-5, 2 ** 40]);
    b.close();
  });

  it('a real checkpoint that is not the autoencoder is refused by name', async (ctx) => {
    needData(ctx);
    await expect(convertToWeights(path.join(CKPT, 'mnist-cnn-tf1'))).rejects.toThrow(
      /tmp\.index: no tensor "ae_startconv\/W": not the tensors of a Magenta WaveNet autoencoder/,
    );
  });

  it('resolves a folder whose `checkpoint` file names a foreign absolute path', (ctx) => {
    needData(ctx);
    expect(resolveBundlePrefix(path.join(CKPT, 'mnist-cnn-tf1'))).toBe(path.join(CKPT, 'mnist-cnn-tf1', 'tmp'));
    expect(resolveBundlePrefix(path.join(CKPT, 'mnist-cnn-tf1', 'tmp.index'))).toBe(
      path.join(CKPT, 'mnist-cnn-tf1', 'tmp'),
    );
  });
});

describe('TensorFlow.js models', () => {
  it('reads the e2e graph model (new and old converter output)', async (ctx) => {
    needData(ctx);
    for (const f of ['model.json', 'model_new.json']) {
      const m = await readTfjsModel(path.join(TFJS, 'tfjs-e2e-graph-matmul', f));
      expect(m.format).toBe('graph-model');
      expect(m.tensors.map((t) => [t.name, t.shape, t.dtype])).toEqual([['w', [2, 2], 'float32']]);
      [0.01737642, -0.4501254, 0.7393851, 0.2666316].forEach((x, i) => {
        expect((m.tensors[0].values as Float32Array)[i]).toBeCloseTo(x, 7);
      });
    }
  });

  it("finds and decodes the ddsp graph model's dilated-conv weights through the graph", async (ctx) => {
    needData(ctx);
    const m = await readTfjsModel(path.join(TFJS, 'ddsp-violin-graph'));
    const expected = new Map(
      tsv(path.join(TFJS, 'ddsp-violin-graph', '_derived_manifest_check_model.tsv')).map((r) => [r[1], r]),
    );
    expect(m.tensors.length).toBe(expected.size);
    const convs = dilatedConvs(m);
    expect(convs.length).toBeGreaterThanOrEqual(8);
    expect(new Set(convs.map((c) => c.dilation))).toContain(8);
    for (const c of convs) {
      expect(c.shape).toEqual([3, 1, 128, 128]);
      expect(c.node).toMatch(/dilated_conv/);
      const row = expected.get(c.filter)!;
      const { first, sum } = firstAndSum(row.slice(4).join('\t'));
      const v = m.tensors.find((t) => t.name === c.filter)!.values as Float32Array;
      first.forEach((x, i) => {
        expect(v[i]).toBeCloseTo(x, 6);
      });
      expect(v.reduce((a, b) => a + b, 0)).toBeCloseTo(sum!, 2);
    }
  });
});

/** A Magenta-style checkpoint of `w`: raw variables, EMA shadows, Adam slots, global_step, beta powers. */
function magentaTensors(w: Weights, ema: Weights): Map<string, BundleTensor> {
  const t = new Map<string, BundleTensor>();
  for (const [name, x] of w.tensors) {
    t.set(name, { dtype: 1, shape: x.shape, bytes: f32Bytes(x.data) });
    t.set(`${name}/ExponentialMovingAverage`, { dtype: 1, shape: x.shape, bytes: f32Bytes(ema.get(name).data) });
    if (!name.startsWith('res_10/')) {
      t.set(`${name}/Adam`, { dtype: 1, shape: x.shape, bytes: f32Bytes(new Float32Array(x.data.length).fill(0.5)) });
      t.set(`${name}/Adam_1`, {
        dtype: 1,
        shape: x.shape,
        bytes: f32Bytes(new Float32Array(x.data.length).fill(0.25)),
      });
    }
  }
  t.set('global_step', { dtype: 3, shape: [], bytes: new Uint8Array(Int32Array.of(200000).buffer) });
  t.set('beta1_power', { dtype: 1, shape: [], bytes: f32Bytes([0.5]) });
  t.set('beta2_power', { dtype: 1, shape: [], bytes: f32Bytes([0.75]) });
  return t;
}

describe('Magenta checkpoint -> our weights', () => {
  const c = getConfig('tiny');
  const raw = initWeights(c, 11, { biasScale: 0.1 });
  const ema = initWeights(c, 12, { biasScale: 0.1 });

  it("a checkpoint in Magenta's naming converts to a model with the same logits (raw and --ema, plain and Snappy, via the CLI)", async () => {
    const e = await testEngine();
    const prefix = path.join(tmp, 'magenta', 'model.ckpt-200000');
    fs.mkdirSync(path.dirname(prefix), { recursive: true });
    writeBundle(prefix, magentaTensors(raw, ema), { blockSize: 4096 });
    const snappyPrefix = path.join(tmp, 'magenta-snappy', 'model.ckpt-5');
    fs.mkdirSync(path.dirname(snappyPrefix), { recursive: true });
    writeBundle(snappyPrefix, magentaTensors(raw, ema), { snappy: true });
    const audio = Float32Array.from({ length: 1024 }, (_, i) => 0.5 * Math.sin(i / 13));
    const logitsOf = async (w: Weights) => {
      const m = await modelFromWeights(e, w);
      const l = (await m.teacherForcedLogits(audio)).data;
      m.dispose();
      return l;
    };
    const { weights, report } = await convertToWeights(prefix);
    expect(report.config).toBe('tiny');
    expect(report.skipped!.optimizer.length).toBe(2 * (raw.tensors.size - 2) + 3);
    expect(report.skipped!.ema.length).toBe(raw.tensors.size);
    expect(await logitsOf(weights)).toEqual(await logitsOf(raw));
    const viaEma = await convertToWeights(snappyPrefix, { ema: true });
    expect(await logitsOf(viaEma.weights)).toEqual(await logitsOf(ema));

    const out = path.join(tmp, 'converted');
    const msg = await nsynthOk(['convert', `${prefix}.index`, '--out', out, '--ema']);
    expect(msg).toMatch(/config tiny, \d+ tensors from tf-checkpoint/);
    const m = await loadModel(e, out);
    expect((await m.teacherForcedLogits(audio)).data).toEqual(await logitsOf(ema));
    m.dispose();
    const listing = JSON.parse(await nsynthOk(['inspect', prefix, '--json']));
    expect(listing.rows.length).toBe(magentaTensors(raw, ema).size);
    expect(listing.failures).toBe(0);
    expect(listing.rows.find((r: { name: string }) => r.name === 'global_step')).toMatchObject({
      dtype: 'int32',
      shape: [],
      bytes: 4,
      crc: 'ok',
    });
  });

  it('reports missing tensors, wrong shapes and unexpected tensors by name', async () => {
    const t = magentaTensors(raw, ema);
    const p1 = path.join(tmp, 'missing');
    t.delete('skip_3/W');
    writeBundle(p1, t);
    await expect(convertToWeights(p1)).rejects.toThrow(
      /missing\.index: missing 1 tensor\(s\) of config tiny: skip_3\/W/,
    );
    const t2 = magentaTensors(raw, ema);
    t2.set('res_2/W', { dtype: 1, shape: [1, 1, 32, 16], bytes: f32Bytes(new Float32Array(512)) });
    const p2 = path.join(tmp, 'shape');
    writeBundle(p2, t2);
    await expect(convertToWeights(p2)).rejects.toThrow(
      /shape\.index: "res_2\/W" is \[1,1,32,16\], config tiny needs \[1,1,32,32\]/,
    );
    const t3 = magentaTensors(raw, ema);
    t3.set('extra_layer/W', { dtype: 1, shape: [2], bytes: f32Bytes([1, 2]) });
    const p3 = path.join(tmp, 'extra');
    writeBundle(p3, t3);
    await expect(convertToWeights(p3)).rejects.toThrow(/unexpected model tensor\(s\) for config tiny: extra_layer\/W/);
    // A renamed tensor is named with its shape, and the --map entry that fixes it is given and works.
    const t4 = magentaTensors(raw, ema);
    t4.set('res_2/Weights', t4.get('res_2/W')!);
    t4.delete('res_2/W');
    const p4 = path.join(tmp, 'renamed');
    writeBundle(p4, t4);
    const err = await convertToWeights(p4).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(err).toMatch(
      /missing 1 tensor\(s\) of config tiny: res_2\/W \[1,1,32,32\]; the source has 1 tensor\(s\) that config does not use: res_2\/Weights \[1,1,32,32\] \(same shape and a near name: renamed\?/,
    );
    const map = JSON.parse(/holding (\{.*\})\)$/.exec(err ?? '')![1]);
    expect(map).toEqual({ 'res_2/Weights': 'res_2/W' });
    const fixed = await convertToWeights(p4, { map });
    expect(fixed.weights.get('res_2/W').data).toEqual(raw.get('res_2/W').data);
  });
});

describe('tfjs export and import', () => {
  const c = getConfig('tiny');
  const w = initWeights(c, 21, { biasScale: 0.1 });

  it('our weights round-trip through a tfjs manifest (f32 exactly, f16 as tfjs dequantises it), old format and foreign names too', async () => {
    const dir = path.join(tmp, 'tfjs-f32');
    writeTfjsWeights(dir, w, { writeFile: writeFileAtomic, shardBytes: 100000 });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.bin')).length).toBeGreaterThan(1);
    const back = await convertToWeights(dir);
    for (const [n, t] of w.tensors) expect(back.weights.get(n).data, n).toEqual(t.data);

    const half = path.join(tmp, 'tfjs-f16');
    writeTfjsWeights(half, w, { dtype: 'f16', writeFile: writeFileAtomic });
    const hb = await convertToWeights(half);
    for (const [n, t] of w.tensors)
      expect(hb.weights.get(n).data, n).toEqual(Float32Array.from(t.data, (v) => fromHalf(toHalf(v))));

    // The old format: no `format` key, shards without `.bin`, and names that are not Magenta's.
    const old = path.join(tmp, 'tfjs-old');
    fs.mkdirSync(old);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    delete json.format;
    const map: Record<string, string> = {};
    for (const g of json.weightsManifest) {
      g.paths = g.paths.map((p: string) => {
        fs.copyFileSync(path.join(dir, p), path.join(old, p.replace(/\.bin$/, '')));
        return p.replace(/\.bin$/, '');
      });
      for (const s of g.weights) {
        map[`renamed/${s.name.replace(/\//g, '.')}`] = s.name;
        s.name = `renamed/${s.name.replace(/\//g, '.')}`;
      }
    }
    fs.writeFileSync(path.join(old, 'model.json'), JSON.stringify(json));
    // The recorded config (userDefinedMetadata.nsynthConfig) says which tensors to expect; the hint names the map.
    await expect(convertToWeights(old)).rejects.toThrow(
      /model\.json: missing 134 tensor\(s\) of config tiny: ae_startconv\/W .*pass --map FILE/,
    );
    const mapped = await convertToWeights(old, { map });
    for (const [n, t] of w.tensors) expect(mapped.weights.get(n).data, n).toEqual(t.data);
    const mapFile = path.join(tmp, 'map.json');
    fs.writeFileSync(mapFile, JSON.stringify(map));
    const out = path.join(tmp, 'from-old-tfjs');
    await nsynthOk(['convert', old, '--map', mapFile, '--out', out, '--dtype', 'f16']);
    expect(readWeightsDir(out).get('logits/W').data).toEqual(
      Float32Array.from(w.get('logits/W').data, (v) => fromHalf(toHalf(v))),
    );
    const exported = path.join(tmp, 'cli-export');
    await nsynthOk(['convert', out, '--to', 'tfjs', '--out', exported]);
    expect((await readTfjsModel(exported)).tensors.length).toBe(w.tensors.size);
  });

  it('a manifest pointing past the end of its shard is an error naming the file', async () => {
    const dir = path.join(tmp, 'tfjs-short');
    writeTfjsWeights(dir, w, { writeFile: writeFileAtomic });
    const shard = path.join(dir, 'group1-shard1of1.bin');
    fs.truncateSync(shard, fs.statSync(shard).size - 8);
    await expect(readTfjsModel(dir)).rejects.toThrow(
      /tfjs-short\/model\.json: group 0's manifest needs \d+ bytes, its shards \(group1-shard1of1\.bin\) hold \d+: it points past the end/,
    );
  });

  it('a manifest that describes less than its shards hold (a float32 tensor declared uint8-quantised) is refused', async () => {
    const dir = path.join(tmp, 'tfjs-misread');
    writeTfjsWeights(dir, w, { writeFile: writeFileAtomic });
    const file = path.join(dir, 'model.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    const spec = m.weightsManifest[0].weights.find((s: { name: string }) => s.name === 'logits/W');
    spec.quantization = { dtype: 'uint8', scale: 0.01, min: -1 };
    fs.writeFileSync(file, JSON.stringify(m));
    await expect(readTfjsModel(dir)).rejects.toThrow(
      /tfjs-misread\/model\.json: group 0's manifest describes \d+ bytes, its shards \(group1-shard1of1\.bin\) hold \d+: a weight's dtype, shape or quantisation does not match/,
    );
    const r = await nsynth(['convert', dir, '--out', path.join(tmp, 'never-converted')]);
    expect(r.status).toBe(1);
    expect(fs.existsSync(path.join(tmp, 'never-converted'))).toBe(false);
  });
});

describe('bad checkpoints', () => {
  const c = getConfig('tiny');
  const w = initWeights(c, 31);
  const tensors = magentaTensors(w, w);

  it('a truncated index, a wrong magic, a flipped byte in a block or in tensor data: errors naming the file', () => {
    const { index, data } = writeBundleBytes(tensors, { blockSize: 2048 });
    const prefix = path.join(tmp, 'bad');
    fs.writeFileSync(`${prefix}.data-00000-of-00001`, data);
    const open = (bytes: Uint8Array) => () => new TfBundle(prefix, bytes);
    expect(open(index.subarray(0, 30))).toThrow(/bad\.index: truncated: 30 bytes/);
    expect(open(index.subarray(0, index.length - 100))).toThrow(/bad\.index: bad table magic/);
    const magic = index.slice();
    magic[magic.length - 1] ^= 1;
    expect(open(magic)).toThrow(/bad\.index: bad table magic/);
    const flipped = index.slice();
    flipped[100] ^= 0x04;
    expect(open(flipped)).toThrow(/bad\.index: data block at byte 0: block checksum mismatch/);
    const b = new TfBundle(prefix, index);
    const e = b.entry('logits/W');
    const d = data.slice();
    d[e.offset + 17] ^= 0x80;
    fs.writeFileSync(`${prefix}.data-00000-of-00001`, d);
    expect(() => b.read('logits/W')).toThrow(/bad\.data-00000-of-00001: tensor "logits\/W" fails its checksum/);
    fs.writeFileSync(`${prefix}.data-00000-of-00001`, data.subarray(0, e.offset + 10));
    const b2 = new TfBundle(prefix, index);
    expect(() => b2.read('logits/W')).toThrow(
      /bad\.data-00000-of-00001: tensor "logits\/W" spans bytes \d+\.\.\d+, the file has \d+/,
    );
    b.close();
    b2.close();
  });

  it('Snappy: corrupted streams are errors, never overruns', () => {
    const text = new TextEncoder().encode('nsynth '.repeat(50));
    expect(snappyDecompress(snappyLiteralEncode(text), 's')).toEqual(text);
    // A back-reference: 'ab' then copy offset 2, length 6 (overlapping) -> 'abababab'.
    expect(
      new TextDecoder().decode(snappyDecompress(Uint8Array.of(8, 0x04, 97, 98, ((6 - 1) << 2) | 2, 2, 0), 's')),
    ).toBe('abababab');
    expect(() => snappyDecompress(Uint8Array.of(8, 0x04, 97, 98, ((6 - 1) << 2) | 2, 9, 0), 's')).toThrow(
      /s: Snappy copy offset 9 outside/,
    );
    expect(() => snappyDecompress(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), 's')).toThrow(/more than the/);
    expect(() => snappyDecompress(Uint8Array.of(3, 0x08, 97), 's')).toThrow(/literal runs past the end/);
  });

  it('fuzz: thousands of mutated indexes give a named error or a valid listing, never a crash, hang or huge allocation', () => {
    const w0 = writeBundleBytes(tensors, { blockSize: 1500 });
    const r = rng(99);
    const t0 = Date.now();
    let errors = 0;
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = w0.index.slice();
      const mode = i % 4;
      if (mode === 0) {
        for (let k = 0; k < 1 + r.int(4); k++) bytes[r.int(bytes.length)] = r.int(256);
      } else if (mode === 1) {
        // Inside a data block with its checksum recomputed, so the entry parser sees the damage.
        const blk = w0.dataBlocks[r.int(w0.dataBlocks.length)];
        for (let k = 0; k < 1 + r.int(3); k++) bytes[blk.offset + r.int(blk.size)] = r.int(256);
        resealBlock(bytes, blk);
      } else if (mode === 2) {
        // The footer's block handles (varints), magic kept.
        bytes[bytes.length - 48 + r.int(40)] = r.int(256);
      } else {
        const cut = r.int(bytes.length);
        const junk = Uint8Array.from({ length: r.int(64) }, () => r.int(256));
        bytes.set(junk.subarray(0, Math.min(junk.length, bytes.length - cut)), cut);
        resealBlock(bytes, w0.dataBlocks[0]);
      }
      try {
        const b = new TfBundle(path.join(tmp, 'fuzz'), bytes);
        for (const e of b.entries.values()) expect(e.size).toBeGreaterThanOrEqual(0);
        parsed++;
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message.startsWith(path.join(tmp, 'fuzz.index'))).toBe(true);
        expect(e).not.toBeInstanceOf(RangeError);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(1000);
    expect(parsed + errors).toBe(3000);
    expect(Date.now() - t0).toBeLessThan(60000);
  });
});
