// Fuzz tests for every file parser: WAV, NPY, our weights format (manifest.json + weights.bin), TFRecord
// files of NSynth Examples, tf.train.Example messages, NSynth's examples.json and tfjs model folders.
// Each parser gets thousands of seeded mutations of valid files (bit flips, overwritten bytes,
// truncation, inserted, duplicated or deleted spans, corrupted length fields; for JSON, deleted,
// duplicated and renamed keys, values replaced by odd ones or copied from another entry) and must give
// a valid result or an Error that names the file, within a second: never a TypeError or RangeError, a
// hang, or an allocation sized by a corrupted length.
import { describe, it, expect, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import wavefilePkg from 'wavefile';
import { Rng } from '../src/util/rng.js';
import { crc32c, maskCrc } from '../src/util/crc32c.js';
import { decodeWav } from '../src/formats/wav.js';
import { decodeNpy, encodeNpy } from '../src/formats/npy.js';
import { decodeWeights, parseManifest, type Manifest } from '../src/formats/weights-file.js';
import { writeWeightsDir } from '../src/formats/weights-node.js';
import { writeFileAtomic } from '../src/formats/atomic-write.js';
import { initWeights, weightSpecs } from '../src/model/weights.js';
import { getConfig } from '../src/model/config.js';
import { encodeTfRecords } from '../src/dataset/tfrecord.js';
import { decodeExample, encodeExample, type Feature } from '../src/dataset/tf-example.js';
import { JsonWavSource, TfRecordSource } from '../src/dataset/nsynth.js';
import { writeSyntheticDataset } from '../src/dataset/synthetic-notes.js';
import { readTfjsModel, writeTfjsWeights } from '../src/convert/tfjs.js';

const { WaveFile } = wavefilePkg as unknown as { WaveFile: typeof import('wavefile').WaveFile };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-fuzz-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** No single case may take longer: a corrupted count or length must not start a long loop. */
const CASE_LIMIT_MS = 1000;
/**
 * Our inputs are at most a few hundred KB: a case that grows ArrayBuffer memory by more than this
 * sized an allocation by a corrupted length, not by the input.
 */
const ALLOCATION_LIMIT = 64 * 1024 * 1024;

// --- running cases ---

/** Thrown by a result check: the parser returned something that is not a valid result. */
class InvalidResult extends Error {}

function invalid(problem: string): never {
  throw new InvalidResult(problem);
}

interface FuzzCase {
  /** The mutation, for the summary and for reproducing a problem. */
  kind: string;
  /** An error must name one of these (the file, or the file and record). */
  names: string[];
  /** Parses the mutated input and checks a result it returns (with `invalid`). */
  run: () => void | Promise<void>;
  /** Restores anything the case changed on disk. */
  cleanup?: () => void;
}

interface Tally {
  valid: number;
  named: number;
  problems: string[];
  slowestMs: number;
  byKind: Map<string, { valid: number; named: number }>;
}

/** Why a thrown value is not an acceptable parse error, or null when it is a plain Error naming the file. */
function errorProblem(e: unknown, names: string[]): string | null {
  if (e instanceof InvalidResult) return `invalid result: ${e.message}`;
  if (!(e instanceof Error)) return `threw a non-Error ${typeof e}`;
  // A plain Error, not a RangeError (stack overflow, bad length), TypeError (a missing field read
  // through) or SyntaxError leaking from the parser's internals.
  if (Object.getPrototypeOf(e) !== Error.prototype) {
    const frame = e.stack?.split('\n').find((l) => l.includes('/src/')) ?? '';
    return `threw ${e.name}: ${e.message.slice(0, 200)} ${frame.trim()}`;
  }
  if (!names.some((n) => e.message.includes(n))) return `error without the file name: ${e.message.slice(0, 200)}`;
  return null;
}

/**
 * Runs `count` seeded cases, classifying each as a valid result or a named error. Yields to the event
 * loop every 50 ms, since the test worker must answer vitest's messages while a long test runs.
 */
async function fuzz(parser: string, count: number, seed: number, makeCase: (r: Rng) => FuzzCase): Promise<Tally> {
  const r = new Rng(seed);
  const tally: Tally = { valid: 0, named: 0, problems: [], slowestMs: 0, byKind: new Map() };
  const t0 = performance.now();
  let lastYield = t0;
  for (let i = 0; i < count; i++) {
    const c = makeCase(r);
    const kind = tally.byKind.get(c.kind) ?? { valid: 0, named: 0 };
    tally.byKind.set(c.kind, kind);
    const buffersBefore = process.memoryUsage().arrayBuffers;
    const start = performance.now();
    let problem: string | null = null;
    try {
      await c.run();
      tally.valid++;
      kind.valid++;
    } catch (e) {
      problem = errorProblem(e, c.names);
      if (!problem) {
        tally.named++;
        kind.named++;
      }
    } finally {
      c.cleanup?.();
    }
    const ms = performance.now() - start;
    const grown = process.memoryUsage().arrayBuffers - buffersBefore;
    tally.slowestMs = Math.max(tally.slowestMs, ms);
    if (ms > CASE_LIMIT_MS) problem = `${problem ?? 'no problem but'} took ${ms.toFixed(0)} ms`;
    if (grown > ALLOCATION_LIMIT) problem = `${problem ?? 'no problem but'} allocated ${grown} bytes`;
    if (problem) tally.problems.push(`${parser} case ${i} (${c.kind}): ${problem}`);
    if (performance.now() - lastYield > 50) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  }
  const kinds = [...tally.byKind].map(([k, v]) => `${k} ${v.valid}/${v.named}`).join(', ');
  console.log(
    `fuzz ${parser}: ${count} cases, ${tally.valid} valid, ${tally.named} named errors, ` +
      `${tally.problems.length} problems; slowest case ${tally.slowestMs.toFixed(1)} ms, all ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s; by mutation (valid/errors): ${kinds}`,
  );
  if (tally.problems.length) console.log(tally.problems.slice(0, 40).join('\n'));
  return tally;
}

/** Every case classified, none a problem, and the mutations reached both the valid and the error paths. */
function expectAllClassified(t: Tally, count: number): void {
  expect(t.problems.slice(0, 20)).toEqual([]);
  expect(t.valid + t.named).toBe(count);
  expect(t.valid).toBeGreaterThan(0);
  expect(t.named).toBeGreaterThan(0);
  expect(t.slowestMs).toBeLessThan(CASE_LIMIT_MS);
}

// --- byte mutations ---

/** A little-endian integer field whose value sizes or counts something (a chunk size, a length). */
interface LengthField {
  at: number;
  width: 2 | 4 | 8;
}

function pick<T>(r: Rng, list: readonly T[]): T {
  return list[r.int(list.length)];
}

function randomBytes(r: Rng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => r.int(256));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Values that break length arithmetic: zero, off by one, sign bits, all ones, beyond the file. */
function oddLength(r: Rng, fileSize: number): number {
  return pick(r, [
    0,
    1,
    2,
    3,
    0x7f,
    0x80,
    0xff,
    0x100,
    0xffff,
    0x10000,
    0x7fffffff,
    0x80000000,
    0xffffffff,
    fileSize - 1,
    fileSize,
    fileSize + 1,
    fileSize * 2,
    r.nextU32(),
  ]);
}

function writeField(bytes: Uint8Array, f: LengthField, value: number): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (f.at + f.width > bytes.length) return;
  if (f.width === 2) dv.setUint16(f.at, value & 0xffff, true);
  else if (f.width === 4) dv.setUint32(f.at, value >>> 0, true);
  else {
    dv.setUint32(f.at, value >>> 0, true);
    // The high word is all ones for a quarter of the values: lengths near 2^64.
    dv.setUint32(f.at + 4, value % 4 === 3 ? 0xffffffff : Math.floor(value / 2 ** 32), true);
  }
}

/** Same-length damage: the structure stays where it was, so checks after a CRC still see it. */
const IN_PLACE_MUTATIONS = ['bit flips', 'bytes set to 0x00', 'bytes set to 0xff', 'random bytes'] as const;
const RESIZING_MUTATIONS = ['truncated', 'junk inserted', 'span duplicated', 'span deleted'] as const;

function mutateInPlace(r: Rng, bytes: Uint8Array, kind: string, from = 0, to = bytes.length): void {
  if (to <= from) return;
  const n = 1 + r.int(kind === 'bit flips' ? 8 : 4);
  for (let k = 0; k < n; k++) {
    const at = from + r.int(to - from);
    if (kind === 'bit flips') bytes[at] ^= 1 << r.int(8);
    else bytes[at] = kind === 'bytes set to 0x00' ? 0 : kind === 'bytes set to 0xff' ? 0xff : r.int(256);
  }
}

function resize(r: Rng, bytes: Uint8Array, kind: string): Uint8Array {
  const at = r.int(bytes.length + 1);
  if (kind === 'truncated') return bytes.slice(0, at);
  if (kind === 'junk inserted') return concat(bytes.subarray(0, at), randomBytes(r, 1 + r.int(64)), bytes.subarray(at));
  const from = r.int(bytes.length);
  const span = bytes.subarray(from, from + 1 + r.int(Math.min(256, bytes.length - from)));
  if (kind === 'span duplicated') return concat(bytes.subarray(0, at), span, bytes.subarray(at));
  return concat(bytes.subarray(0, from), bytes.subarray(from + span.length)); // span deleted
}

/** One random mutation of `input` (never modified): in place, resizing, or a length field set to an odd value. */
function mutateBytes(r: Rng, input: Uint8Array, fields: LengthField[] = []): { kind: string; bytes: Uint8Array } {
  const kinds: string[] = [...IN_PLACE_MUTATIONS, ...RESIZING_MUTATIONS];
  if (fields.length) kinds.push('length field', 'length field', 'length field');
  const kind = pick(r, kinds);
  if (kind === 'length field') {
    const bytes = input.slice();
    writeField(bytes, pick(r, fields), oddLength(r, input.length));
    return { kind, bytes };
  }
  if ((IN_PLACE_MUTATIONS as readonly string[]).includes(kind)) {
    const bytes = input.slice();
    mutateInPlace(r, bytes, kind);
    return { kind, bytes };
  }
  return { kind, bytes: resize(r, input, kind) };
}

// --- JSON mutations ---

/** Stands for JSON text that JSON.stringify cannot produce (deep nesting, 1e400, a duplicated key). */
const RAW = (i: number) => `@@raw-json-${i}@@`;

/** Deep enough to overflow the stack of any recursive walk (JSON.stringify, String, Array.join). */
const DEEP_ARRAY = `${'['.repeat(20000)}${']'.repeat(20000)}`;
const DEEP_OBJECT = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;

/** Replacement values: huge, negative, fractional, wrong type, prototype names, nested. */
const ODD_VALUES: unknown[] = [
  1e308,
  -1e308,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 32,
  2 ** 31,
  1 << 20,
  1e6,
  65535,
  -1,
  -0.5,
  0,
  1.5,
  3,
  16000,
  '',
  'x',
  '1',
  '-1',
  'float16',
  'constructor',
  '__proto__',
  'toString',
  '../../outside',
  'a'.repeat(5000),
  null,
  true,
  false,
  {},
  [],
  [[[1]]],
  [null],
  [1, 'x', null],
  { toString: 1 },
  { valueOf: {}, toString: [] },
];
const ODD_RAW_VALUES = ['1e400', '-1e400', DEEP_ARRAY, DEEP_OBJECT];
const ODD_DOCUMENTS = ['null', '5', '"x"', '[]', '{}', '[null]', '[[]]', '{"": {}}', DEEP_ARRAY];

type Container = Record<string, unknown> | unknown[];
interface Slot {
  parent: Container;
  key: string | number;
}

/** Every value's place in the document: its container and its key or index. */
function slotsOf(doc: unknown): Slot[] {
  const slots: Slot[] = [];
  const stack: unknown[] = [doc];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (const key of keys) {
      const child = (v as Record<string | number, unknown>)[key];
      slots.push({ parent: v as Container, key });
      stack.push(child);
    }
  }
  return slots;
}

/** Rebuilds an object with `extraKey: value` right after `key` (the order JSON text keeps). */
function insertAfter(o: Record<string, unknown>, key: string, extraKey: string, value: unknown): void {
  const entries = Object.entries(o);
  for (const k of Object.keys(o)) delete o[k];
  for (const [k, v] of entries) {
    o[k] = v;
    if (k === key) o[extraKey] = value;
  }
}

const JSON_TREE_MUTATIONS = [
  'key deleted',
  'key duplicated',
  'key renamed',
  'value replaced',
  'value replaced',
  'value replaced',
  'value copied from a namesake',
  'array element deleted',
  'array element duplicated',
] as const;
const JSON_TEXT_MUTATIONS = ['text truncated', 'text bytes changed', 'text span duplicated', 'document replaced'];

/** One random mutation of a JSON document's text: of its tree (keys, values, elements) or of the text. */
function mutateJson(r: Rng, text: string): { kind: string; text: string } {
  if (r.next() < 0.25) {
    const kind = pick(r, JSON_TEXT_MUTATIONS);
    if (kind === 'document replaced') return { kind, text: pick(r, ODD_DOCUMENTS) };
    if (kind === 'text truncated') return { kind, text: text.slice(0, r.int(text.length)) };
    const bytes = new TextEncoder().encode(text);
    if (kind === 'text bytes changed') mutateInPlace(r, bytes, pick(r, IN_PLACE_MUTATIONS));
    const out = kind === 'text span duplicated' ? resize(r, bytes, 'span duplicated') : bytes;
    return { kind, text: new TextDecoder().decode(out) };
  }
  const doc = JSON.parse(text) as unknown;
  const slots = slotsOf(doc);
  const raw: string[] = [];
  const oddValue = (): unknown => {
    if (r.next() < 0.15) {
      raw.push(pick(r, ODD_RAW_VALUES));
      return RAW(raw.length - 1);
    }
    return structuredClone(pick(r, ODD_VALUES));
  };
  let kind: string = pick(r, JSON_TREE_MUTATIONS);
  const inArrays = slots.filter((s) => Array.isArray(s.parent));
  const inObjects = slots.filter((s) => !Array.isArray(s.parent));
  const slot = kind.startsWith('array') && inArrays.length ? pick(r, inArrays) : pick(r, inObjects);
  if (kind.startsWith('array') && !Array.isArray(slot.parent)) kind = 'value replaced';
  const { parent, key } = slot;
  if (Array.isArray(parent)) {
    const i = key as number;
    if (kind === 'array element deleted') parent.splice(i, 1);
    else if (kind === 'array element duplicated') parent.splice(i, 0, structuredClone(parent[i]));
    else parent[i] = oddValue();
  } else {
    const k = key as string;
    if (kind === 'key deleted') delete parent[k];
    else if (kind === 'key renamed') {
      const renamed = pick(r, [`${k}x`, k.toUpperCase(), '', '__proto__', pick(r, inObjects).key as string]);
      raw.push(JSON.stringify(renamed));
      insertAfter(parent, k, RAW(raw.length - 1), parent[k]);
      delete parent[k];
    } else if (kind === 'key duplicated') {
      // JSON.parse keeps the last of two equal keys: the duplicate carries the same value or an odd one.
      raw.push(JSON.stringify(k));
      insertAfter(parent, k, RAW(raw.length - 1), r.next() < 0.5 ? structuredClone(parent[k]) : oddValue());
    } else if (kind === 'value copied from a namesake') {
      // Plausible values in the wrong place: another tensor's name or offset, another note's pitch.
      const namesakes = inObjects.filter((s) => s.key === k && s.parent !== parent);
      parent[k] = namesakes.length
        ? structuredClone((pick(r, namesakes).parent as Record<string, unknown>)[k])
        : oddValue();
    } else parent[k] = oddValue();
  }
  let out = JSON.stringify(doc, null, 1);
  raw.forEach((rawText, i) => {
    out = out.replace(JSON.stringify(RAW(i)), () => rawText);
  });
  return { kind, text: out };
}

// --- result checks ---

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A note's labels as the sources promise them; a JSON note's name also names its WAV, so it must be plain. */
function checkNote(
  n: {
    noteStr: string;
    pitch: number;
    velocity: number;
    family: number;
    source: number;
    qualities: number[];
  },
  plainName: boolean,
): void {
  if (typeof n.noteStr !== 'string' || !n.noteStr) invalid('no note name');
  if (plainName && (!/^[\w.+-]+$/.test(n.noteStr) || n.noteStr.startsWith('.'))) invalid(`note name ${n.noteStr}`);
  for (const v of [n.pitch, n.velocity])
    if (!Number.isInteger(v) || v < 0 || v > 127) invalid(`${n.noteStr}: MIDI value ${v}`);
  if (!Number.isInteger(n.family) || !Number.isInteger(n.source)) invalid(`${n.noteStr}: family or source`);
  if (!Array.isArray(n.qualities) || n.qualities.some((q) => typeof q !== 'number')) invalid(`${n.noteStr}: qualities`);
}

// --- the parsers ---

describe('fuzz: every file parser gives a valid result or an Error naming the file', () => {
  it('WAV: decodeWav on mutated 8/16/24/32-bit PCM and 32/64-bit float files, mono and stereo', async () => {
    const where = path.join(tmp, 'note.wav');
    const r0 = new Rng(1);
    const bases = (
      [
        [1, '16'],
        [2, '16'],
        [1, '32f'],
        [1, '8'],
        [2, '24'],
        [1, '32'],
        [1, '64'],
      ] as const
    ).map(([channels, depth]) => {
      const w = new WaveFile();
      const samples = Array.from({ length: channels }, () => Float64Array.from(r0.fill(400, -0.9, 0.9)));
      const scale = depth === '32f' || depth === '64' ? 1 : 2 ** (Number(depth) - 1) - 1;
      w.fromScratch(
        channels,
        16000,
        depth,
        samples.map((s) => s.map((x) => (scale === 1 ? x : Math.round(x * scale) + (depth === '8' ? 128 : 0)))),
      );
      return w.toBuffer();
    });
    /** The RIFF size, every chunk's size, and the format chunk's channel, rate and width fields. */
    const fieldsOf = (b: Uint8Array): LengthField[] => {
      const fields: LengthField[] = [{ at: 4, width: 4 }];
      for (let at = 12; at + 8 <= b.length; ) {
        const size = new DataView(b.buffer, b.byteOffset).getUint32(at + 4, true);
        fields.push({ at: at + 4, width: 4 });
        if (String.fromCharCode(...b.subarray(at, at + 4)) === 'fmt ')
          for (const [offset, width] of [
            [10, 2],
            [12, 4],
            [16, 4],
            [20, 2],
            [22, 2],
          ] as const)
            fields.push({ at: at + offset, width });
        at += 8 + size + (size % 2);
      }
      return fields;
    };
    const count = 2500;
    const t = await fuzz('WAV', count, 101, (r) => {
      const base = pick(r, bases);
      const { kind, bytes } = mutateBytes(r, base, fieldsOf(base));
      return {
        kind,
        names: [where],
        run: () => {
          const a = decodeWav(bytes, where);
          if (!(a.samples instanceof Float32Array)) invalid('samples are not a Float32Array');
          if (!(a.sampleRate > 0)) invalid(`sample rate ${a.sampleRate}`);
          if (a.samples.length > bytes.length) invalid(`${a.samples.length} samples from ${bytes.length} bytes`);
        },
      };
    });
    expectAllClassified(t, count);
  });

  it('NPY: decodeNpy on mutated float32/float64 arrays, format 1.0 and 2.0, headers included', async () => {
    const where = path.join(tmp, 'array.npy');
    const r0 = new Rng(2);
    /** A format 2.0 float64 file (4-byte header length), as NumPy writes for long headers. */
    const float64V2 = (shape: number[]): Uint8Array => {
      let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
      header = `${header.padEnd(Math.ceil((12 + header.length + 1) / 64) * 64 - 13, ' ')}\n`;
      const pre = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0, 0, 0, 0);
      new DataView(pre.buffer).setUint32(8, header.length, true);
      const data = Float64Array.from(r0.fill(product(shape)));
      return concat(pre, new TextEncoder().encode(header), new Uint8Array(data.buffer));
    };
    const bases = [
      { bytes: encodeNpy(r0.fill(60), [60]), lengthWidth: 2 as const },
      { bytes: encodeNpy(r0.fill(60), [3, 4, 5]), lengthWidth: 2 as const },
      { bytes: float64V2([6, 7]), lengthWidth: 4 as const },
    ];
    /** Tokens of the header text, replaced by values that break its parsing or its arithmetic. */
    const headerTokens = ['descr', '<f4', '<f8', 'False', 'shape', '(', ')', ',', '60', '3', '4', '5', '6', '7', ':'];
    const headerValues = ['', '0', '-1', '1.5', '1e400', '99999999999999999999', '9007199254740993', ')', "'", 'True'];
    const count = 2500;
    const t = await fuzz('NPY', count, 102, (r) => {
      const base = pick(r, bases);
      let kind: string;
      let bytes: Uint8Array;
      if (r.next() < 0.25) {
        kind = 'header token replaced';
        const text = new TextDecoder('latin1').decode(base.bytes);
        const token = pick(r, headerTokens);
        const at = text.indexOf(token, 8 + r.int(40));
        const edited = at < 0 ? text : text.slice(0, at) + pick(r, headerValues) + text.slice(at + token.length);
        bytes = Uint8Array.from(edited, (c) => c.charCodeAt(0));
      } else ({ kind, bytes } = mutateBytes(r, base.bytes, [{ at: 8, width: base.lengthWidth }]));
      return {
        kind,
        names: [where],
        run: () => {
          const a = decodeNpy(bytes, where);
          if (a.data.length !== product(a.shape)) invalid(`${a.data.length} values for shape [${a.shape}]`);
          if (a.data.length * 4 > bytes.length) invalid(`${a.data.length} values from ${bytes.length} bytes`);
        },
      };
    });
    expectAllClassified(t, count);
  });

  it('weights: parseManifest and decodeWeights on mutated manifest.json and weights.bin (f32 and f16)', async () => {
    const bases = (['f32', 'f16'] as const).map((dtype) => {
      const dir = path.join(tmp, `weights-${dtype}`);
      writeWeightsDir(dir, initWeights(getConfig('tiny'), 7, { biasScale: 0.1 }), dtype, { note: 'fuzz' });
      const manifestPath = path.join(dir, 'manifest.json');
      return {
        manifestPath,
        dataPath: path.join(dir, 'weights.bin'),
        text: fs.readFileSync(manifestPath, 'utf8'),
        data: new Uint8Array(fs.readFileSync(path.join(dir, 'weights.bin'))),
      };
    });
    const tensorCount = weightSpecs(getConfig('tiny')).length;
    const count = 1500;
    const t = await fuzz('weights', count, 103, (r) => {
      const base = pick(r, bases);
      let kind: string;
      let text = base.text;
      let data: Uint8Array = base.data;
      const target = r.next();
      if (target < 0.55) ({ kind, text } = mutateJson(r, base.text));
      else if (target < 0.8) ({ kind, bytes: data } = mutateBytes(r, base.data));
      else {
        // Past the checksums: damaged values with every CRC recomputed, so the value checks see them.
        kind = 'data changed, checksums recomputed';
        data = base.data.slice();
        mutateInPlace(r, data, pick(r, IN_PLACE_MUTATIONS));
        const m = JSON.parse(base.text) as Manifest;
        for (const tensor of m.tensors)
          tensor.crc32c = crc32c(data.subarray(tensor.offset, tensor.offset + tensor.bytes));
        text = JSON.stringify(m);
      }
      return {
        kind: `${target < 0.55 ? 'manifest' : 'data'}: ${kind}`,
        names: [base.manifestPath, base.dataPath],
        run: () => {
          const manifest = parseManifest(text, base.manifestPath);
          const w = decodeWeights(manifest, data, base.dataPath);
          if (w.tensors.size !== tensorCount) invalid(`${w.tensors.size} tensors`);
          for (const [name, tensor] of w.tensors)
            if (tensor.data.length !== product(tensor.shape)) invalid(`${name}: ${tensor.data.length} values`);
        },
      };
    });
    expectAllClassified(t, count);
  });

  /** NSynth-like Examples: labels, a short float audio feature, and a feature the index pass skips. */
  function nsynthExamples(r0: Rng, n: number): Uint8Array[] {
    const bytes = (s: string): Feature => ({ kind: 'bytes', values: [new TextEncoder().encode(s)] });
    const int64 = (...values: number[]): Feature => ({ kind: 'int64', values });
    return Array.from({ length: n }, (_, i) => {
      const noteStr = `guitar_acoustic_00${i}-0${60 + i}-100`;
      return encodeExample({
        note_str: bytes(noteStr),
        pitch: int64(60 + i),
        velocity: int64(100),
        audio: { kind: 'float', values: r0.fill(48) },
        qualities: int64(0, 1, 0, 0, 0, 0, 0, 0, 0, -1),
        instrument_source: int64(0),
        instrument_family: int64(3),
        instrument_str: bytes(noteStr.replace(/-\d+-\d+$/, '')),
        sample_rate: int64(16000),
      });
    });
  }

  it('TFRecord: TfRecordSource (framing, CRCs, Examples, labels, audio) on mutated files', async () => {
    const file = path.join(tmp, 'notes.tfrecord');
    const records = nsynthExamples(new Rng(4), 4);
    const valid = encodeTfRecords(records);
    const offsets: number[] = [];
    for (let at = 0, i = 0; i < records.length; at += records[i].length + 16, i++) offsets.push(at);
    const count = 2000;
    const t = await fuzz('TFRecord', count, 104, (r) => {
      let kind: string;
      let bytes: Uint8Array;
      const choice = r.next();
      const i = r.int(records.length);
      if (choice < 0.5) {
        ({ kind, bytes } = mutateBytes(
          r,
          valid,
          offsets.map((at) => ({ at, width: 8 })),
        ));
      } else if (choice < 0.65) {
        // A length that passes its own CRC: only the bounds checks stand between it and an allocation.
        kind = 'length field, header CRC recomputed';
        bytes = valid.slice();
        writeField(bytes, { at: offsets[i], width: 8 }, oddLength(r, bytes.length));
        new DataView(bytes.buffer).setUint32(
          offsets[i] + 8,
          maskCrc(crc32c(bytes.subarray(offsets[i], offsets[i] + 8))),
          true,
        );
      } else {
        // A damaged Example framed with valid CRCs, so the protobuf and label checks see the damage.
        const mutated = mutateBytes(r, records[i]);
        kind = `record ${mutated.kind}, CRCs recomputed`;
        bytes = encodeTfRecords(records.map((rec, k) => (k === i ? mutated.bytes : rec)));
      }
      fs.writeFileSync(file, bytes);
      return {
        kind,
        names: [file],
        run: () => {
          const source = new TfRecordSource(file);
          try {
            if (source.notes.length > records.length) invalid(`${source.notes.length} notes`);
            source.notes.forEach((n, k) => {
              checkNote(n, false);
              if (source.audio(k).length === 0) invalid('empty audio');
            });
          } finally {
            source.close();
          }
        },
      };
    });
    expectAllClassified(t, count);
  });

  it('tf.train.Example: decodeExample on mutated messages, all features or the label subset', async () => {
    const where = 'notes.tfrecord: record 3';
    const examples = nsynthExamples(new Rng(5), 3);
    const labels = new Set(['note_str', 'pitch', 'velocity', 'qualities']);
    const count = 3000;
    const t = await fuzz('tf.train.Example', count, 105, (r) => {
      const { kind, bytes } = mutateBytes(r, pick(r, examples));
      const only = r.next() < 0.5 ? labels : undefined;
      return {
        kind: `${kind}${only ? ' (labels only)' : ''}`,
        names: [where],
        run: () => {
          const features = decodeExample(bytes, where, only);
          for (const [name, f] of features) {
            const size = f.kind === 'float' ? f.values.length * 4 : f.values.length;
            if (size > bytes.length) invalid(`feature ${name}: ${f.values.length} values from ${bytes.length} bytes`);
            if (only && !only.has(name)) invalid(`feature ${name} decoded though not asked for`);
          }
        },
      };
    });
    expectAllClassified(t, count);
  });

  it('examples.json: JsonWavSource on mutated NSynth example lists', async () => {
    const dir = path.join(tmp, 'nsynth');
    writeSyntheticDataset(dir, { notes: 4, seed: 1, samples: 500 });
    const json = path.join(dir, 'examples.json');
    const valid = fs.readFileSync(json, 'utf8');
    const count = 2000;
    const t = await fuzz('examples.json', count, 106, (r) => {
      const { kind, text } = mutateJson(r, valid);
      fs.writeFileSync(json, text);
      return {
        kind,
        names: [json],
        run: () => {
          const source = new JsonWavSource(dir);
          for (const n of source.notes) checkNote(n, true);
        },
      };
    });
    expectAllClassified(t, count);
  });

  it('tfjs: readTfjsModel on mutated model.json and shards (f32, f16-quantised, graph topology)', async () => {
    const weights = initWeights(getConfig('tiny'), 8, { biasScale: 0.1 });
    const bases = (['f32', 'f16', 'graph'] as const).map((variant) => {
      const dir = path.join(tmp, `tfjs-${variant}`);
      writeTfjsWeights(dir, weights, {
        dtype: variant === 'f16' ? 'f16' : 'f32',
        shardBytes: 128 * 1024,
        writeFile: writeFileAtomic,
      });
      const modelJson = path.join(dir, 'model.json');
      if (variant === 'graph') {
        // A graph model's topology, one op per weight as in a converted graph, so that reading which
        // nodes use which weight is fuzzed as often as the weights manifest.
        const m = JSON.parse(fs.readFileSync(modelJson, 'utf8')) as Record<string, unknown>;
        m.format = 'graph-model';
        const ops = [...weights.tensors.keys()].map((name, i) => ({
          name: `op_${i}`,
          op: name.endsWith('/W') ? 'Conv2D' : 'BiasAdd',
          input: [i === 0 ? 'audio' : `op_${i - 1}:0`, name, ...(i % 10 === 0 ? ['^audio'] : [])],
          ...(name.endsWith('/W')
            ? { attr: { dilations: { list: { i: ['1', '1', String(1 + (i % 4)), '1'] } } } }
            : {}),
        }));
        m.modelTopology = { node: [{ name: 'audio', op: 'Placeholder' }, ...ops] };
        fs.writeFileSync(modelJson, JSON.stringify(m, null, 1));
      }
      const paths = (JSON.parse(fs.readFileSync(modelJson, 'utf8')) as { weightsManifest: { paths: string[] }[] })
        .weightsManifest[0].paths;
      const shards = paths.map((p) => path.join(dir, p));
      return {
        dir,
        modelJson,
        text: fs.readFileSync(modelJson, 'utf8'),
        shards: shards.map((s) => ({ file: s, bytes: new Uint8Array(fs.readFileSync(s)) })),
      };
    });
    const count = 1500;
    const t = await fuzz('tfjs', count, 107, (r) => {
      const base = pick(r, bases);
      let kind: string;
      let restore: () => void;
      if (r.next() < 0.65) {
        const mutated = mutateJson(r, base.text);
        kind = `model.json: ${mutated.kind}`;
        fs.writeFileSync(base.modelJson, mutated.text);
        restore = () => fs.writeFileSync(base.modelJson, base.text);
      } else {
        const shard = pick(r, base.shards);
        const mutated = mutateBytes(r, shard.bytes);
        kind = `shard: ${mutated.kind}`;
        fs.writeFileSync(shard.file, mutated.bytes);
        restore = () => fs.writeFileSync(shard.file, shard.bytes);
      }
      return {
        kind,
        names: [base.modelJson, ...base.shards.map((s) => s.file)],
        run: async () => {
          const model = await readTfjsModel(base.dir);
          for (const tensor of model.tensors)
            if (tensor.values.length !== product(tensor.shape))
              invalid(`${tensor.name}: ${tensor.values.length} values for shape [${tensor.shape}]`);
        },
        cleanup: restore,
      };
    });
    expectAllClassified(t, count);
  });
});
