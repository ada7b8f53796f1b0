// TensorFlow's checkpoint format V2 ("tensor bundle"), read in TypeScript with no TensorFlow:
//   PREFIX.index                  an SSTable (leveldb table): name -> BundleEntryProto, "" -> header
//   PREFIX.data-00000-of-0000N    raw tensor bytes, read lazily by byte range
// The index is parsed whole (it is small: 64 KB for Magenta's model) with every block's masked
// CRC-32C checked and Snappy blocks decompressed; each tensor's bytes are read only when asked,
// checked against the entry's CRC (strings by TensorFlow's own rule). Lengths from the file are
// checked against the file before anything is allocated.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32c, maskCrc, unmaskCrc } from '../util/crc32c.js';
import { ProtoReader } from '../formats/protobuf.js';
import { snappyDecompress } from './snappy.js';
import { fromHalf } from '../formats/half.js';

export const TABLE_MAGIC_LO = 0x8b80fb57;
export const TABLE_MAGIC_HI = 0xdb477524;
const FOOTER_BYTES = 48;
const MAX_BLOCK_BYTES = 64 * 1024 * 1024;

/** TensorFlow DataType enum values we know (types.proto). */
export const TF_DTYPES: Record<number, { name: string; bytes: number }> = {
  1: { name: 'float32', bytes: 4 },
  2: { name: 'float64', bytes: 8 },
  3: { name: 'int32', bytes: 4 },
  4: { name: 'uint8', bytes: 1 },
  5: { name: 'int16', bytes: 2 },
  6: { name: 'int8', bytes: 1 },
  7: { name: 'string', bytes: 0 },
  9: { name: 'int64', bytes: 8 },
  10: { name: 'bool', bytes: 1 },
  14: { name: 'bfloat16', bytes: 2 },
  17: { name: 'uint16', bytes: 2 },
  19: { name: 'float16', bytes: 2 },
  22: { name: 'uint32', bytes: 4 },
  23: { name: 'uint64', bytes: 8 },
};

export interface BundleEntry {
  name: string;
  dtype: number;
  dtypeName: string;
  shape: number[];
  shard: number;
  offset: number;
  size: number;
  /** Masked CRC-32C as stored. */
  crc32c: number;
}

export interface BundleHeader {
  numShards: number;
  endianness: number;
  version: { producer: number; minConsumer: number };
}

export type TensorValues = Float32Array | Int32Array | Uint8Array | number[] | Uint8Array[];

interface Handle {
  offset: number;
  size: number;
}

function readHandle(r: ProtoReader): Handle {
  return { offset: r.varint(), size: r.varint() };
}

/**
 * Resolves what a user points at (a prefix, the .index, a data shard, or a folder with a `checkpoint` file) to a
 * prefix.
 */
export function resolveBundlePrefix(p: string): string {
  const strip = (s: string) => s.replace(/\.index$/, '').replace(/\.data-\d{5}-of-\d{5}$/, '');
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
    const ck = path.join(p, 'checkpoint');
    if (fs.existsSync(ck)) {
      // model_checkpoint_path may name a foreign absolute path (the machine it was trained on): use its base name here.
      const m = /model_checkpoint_path:\s*"([^"]*)"/.exec(fs.readFileSync(ck, 'utf8'));
      if (m) {
        const local = path.join(p, path.basename(m[1].replace(/\\/g, '/')));
        if (fs.existsSync(`${local}.index`)) return local;
      }
    }
    const idx = fs.readdirSync(p).filter((f) => f.endsWith('.index'));
    if (idx.length === 1) return path.join(p, strip(idx[0]));
    throw new Error(
      `${p}: ${idx.length === 0 ? 'no .index file here' : `several checkpoints here (${idx.join(', ')}): name one`}`,
    );
  }
  return strip(p);
}

export class TfBundle {
  readonly entries = new Map<string, BundleEntry>();
  header: BundleHeader = { numShards: 1, endianness: 0, version: { producer: 0, minConsumer: 0 } };
  readonly indexPath: string;
  /** Compression type of each data block (0 none, 1 Snappy). */
  readonly blockTypes: number[] = [];
  private readonly shardFds = new Map<number, { fd: number; size: number; file: string }>();

  /** Opens PREFIX.index (or parses `indexBytes` as if read from there). */
  constructor(
    readonly prefix: string,
    indexBytes?: Uint8Array,
  ) {
    this.indexPath = `${prefix}.index`;
    let bytes = indexBytes;
    if (!bytes) {
      try {
        bytes = fs.readFileSync(this.indexPath);
      } catch (e) {
        throw new Error(
          `${this.indexPath}: cannot read the checkpoint index ` +
            `(${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
      }
    }
    this.parseIndex(bytes);
  }

  private fail(problem: string): never {
    throw new Error(`${this.indexPath}: ${problem}`);
  }

  private parseIndex(file: Uint8Array): void {
    if (file.length < FOOTER_BYTES)
      this.fail(`truncated: ${file.length} bytes, shorter than the ${FOOTER_BYTES}-byte table footer`);
    const footer = file.subarray(file.length - FOOTER_BYTES);
    const dv = new DataView(footer.buffer, footer.byteOffset, FOOTER_BYTES);
    if (dv.getUint32(40, true) !== TABLE_MAGIC_LO || dv.getUint32(44, true) !== TABLE_MAGIC_HI)
      this.fail('bad table magic: not a TensorFlow checkpoint index (or truncated)');
    const fr = new ProtoReader(footer, 0, 40, this.indexPath, 'table footer');
    readHandle(fr); // metaindex: TensorFlow writes no meta blocks
    const indexHandle = readHandle(fr);
    const index = this.block(file, indexHandle, 'index block');
    let prevKey = '';
    let first = true;
    for (const [, handleBytes] of this.blockEntries(index, 'index block')) {
      const h = readHandle(ProtoReader.of(handleBytes, this.indexPath, 'block handle'));
      const { contents, type } = this.blockWithType(file, h, `data block at byte ${h.offset}`);
      this.blockTypes.push(type);
      for (const [key, value] of this.blockEntries(contents, `data block at byte ${h.offset}`)) {
        if (!first && key <= prevKey) this.fail(`keys out of order ("${prevKey}" then "${key}"): corrupted index`);
        first = false;
        prevKey = key;
        if (key === '') this.header = this.parseHeader(value);
        else this.entries.set(key, this.parseEntry(key, value));
      }
    }
    if (this.header.endianness !== 0) this.fail('big-endian checkpoints are not supported');
    for (const e of this.entries.values()) {
      if (e.shard >= this.header.numShards)
        this.fail(`tensor "${e.name}" names shard ${e.shard} of ${this.header.numShards}`);
    }
  }

  private block(file: Uint8Array, h: Handle, what: string): Uint8Array {
    return this.blockWithType(file, h, what).contents;
  }

  /** A block's contents after its trailer (type byte + masked CRC over contents and type) checked. */
  private blockWithType(file: Uint8Array, h: Handle, what: string): { contents: Uint8Array; type: number } {
    const limit = file.length - FOOTER_BYTES;
    if (h.offset + h.size + 5 > limit || h.size > MAX_BLOCK_BYTES)
      this.fail(`${what}: handle ${h.offset}+${h.size} runs past the end of the table (${limit} bytes)`);
    const raw = file.subarray(h.offset, h.offset + h.size);
    const type = file[h.offset + h.size];
    const stored = new DataView(file.buffer, file.byteOffset + h.offset + h.size + 1, 4).getUint32(0, true);
    if (maskCrc(crc32c(file.subarray(h.offset, h.offset + h.size + 1))) !== stored)
      this.fail(`${what}: block checksum mismatch (corrupted)`);
    if (type === 0) return { contents: raw, type };
    if (type === 1) return { contents: snappyDecompress(raw, `${this.indexPath}: ${what}`, MAX_BLOCK_BYTES), type };
    this.fail(`${what}: unknown compression type ${type}`);
  }

  /** Key/value pairs of a block: prefix-compressed keys, restart array at the end. */
  private *blockEntries(b: Uint8Array, what: string): Generator<[string, Uint8Array]> {
    if (b.length < 4) this.fail(`${what}: ${b.length} bytes, too short for its restart count`);
    const numRestarts = new DataView(b.buffer, b.byteOffset + b.length - 4, 4).getUint32(0, true);
    const entriesEnd = b.length - 4 * (numRestarts + 1);
    if (numRestarts > (b.length - 4) / 4 || entriesEnd < 0)
      this.fail(`${what}: ${numRestarts} restarts do not fit in ${b.length} bytes`);
    const r = new ProtoReader(b, 0, entriesEnd, this.indexPath, what);
    let key = new Uint8Array(0);
    const dec = new TextDecoder();
    while (!r.done) {
      const shared = r.varint();
      const nonShared = r.varint();
      const valueLen = r.varint();
      if (shared > key.length) r.fail(`entry shares ${shared} bytes of a ${key.length}-byte previous key`);
      if (nonShared + valueLen > r.end - r.pos) r.fail(`entry of ${nonShared}+${valueLen} bytes runs past the block`);
      const next = new Uint8Array(shared + nonShared);
      next.set(key.subarray(0, shared));
      next.set(b.subarray(r.pos, r.pos + nonShared), shared);
      r.pos += nonShared;
      const value = b.subarray(r.pos, r.pos + valueLen);
      r.pos += valueLen;
      key = next;
      yield [dec.decode(key), value];
    }
  }

  private parseHeader(v: Uint8Array): BundleHeader {
    const r = ProtoReader.of(v, this.indexPath, 'BundleHeaderProto');
    const h: BundleHeader = { numShards: 0, endianness: 0, version: { producer: 0, minConsumer: 0 } };
    while (!r.done) {
      const [f, w] = r.key();
      if (f === 1 && w === 0) h.numShards = r.varint();
      else if (f === 2 && w === 0) h.endianness = r.varint();
      else if (f === 3 && w === 2) {
        const vr = r.sub('VersionDef');
        while (!vr.done) {
          const [vf, vw] = vr.key();
          if (vf === 1 && vw === 0) h.version.producer = vr.varint();
          else if (vf === 2 && vw === 0) h.version.minConsumer = vr.varint();
          else vr.skip(vw);
        }
      } else r.skip(w);
    }
    if (h.numShards < 1 || h.numShards > 100000) r.fail(`num_shards ${h.numShards}`);
    return h;
  }

  private parseEntry(name: string, v: Uint8Array): BundleEntry {
    const r = ProtoReader.of(v, `${this.indexPath}: tensor "${name}"`, 'BundleEntryProto');
    const e: BundleEntry = { name, dtype: 0, dtypeName: '', shape: [], shard: 0, offset: 0, size: 0, crc32c: 0 };
    while (!r.done) {
      const [f, w] = r.key();
      if (f === 1 && w === 0) e.dtype = r.varint();
      else if (f === 2 && w === 2) {
        const sr = r.sub('TensorShapeProto');
        while (!sr.done) {
          const [sf, sw] = sr.key();
          if (sf === 2 && sw === 2) {
            const dr = sr.sub('TensorShapeProto.Dim');
            let size = 0;
            while (!dr.done) {
              const [df, dw] = dr.key();
              if (df === 1 && dw === 0) size = dr.int64();
              else dr.skip(dw);
            }
            if (size < 0) dr.fail(`dimension ${size}`);
            e.shape.push(size);
          } else if (sf === 3 && sw === 0) {
            if (sr.varint()) sr.fail('unknown rank');
          } else sr.skip(sw);
        }
      } else if (f === 3 && w === 0) e.shard = r.varint();
      else if (f === 4 && w === 0) e.offset = r.int64();
      else if (f === 5 && w === 0) e.size = r.int64();
      else if (f === 6 && w === 5) e.crc32c = r.fixed32();
      else if (f === 7 && w === 2) r.fail('partitioned (sliced) tensors are not supported');
      else r.skip(w);
    }
    const t = TF_DTYPES[e.dtype];
    e.dtypeName = t?.name ?? `dtype ${e.dtype}`;
    if (e.offset < 0 || e.size < 0) r.fail(`negative offset or size (${e.offset}, ${e.size})`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (t && t.bytes > 0 && count * t.bytes !== e.size) r.fail(`${e.size} bytes for shape [${e.shape}] of ${t.name}`);
    return e;
  }

  dataPath(shard: number): string {
    const n = this.header.numShards;
    return `${this.prefix}.data-${String(shard).padStart(5, '0')}-of-${String(n).padStart(5, '0')}`;
  }

  private shard(i: number): { fd: number; size: number; file: string } {
    let s = this.shardFds.get(i);
    if (!s) {
      const file = this.dataPath(i);
      let fd: number;
      try {
        fd = fs.openSync(file, 'r');
      } catch (e) {
        throw new Error(
          `${file}: cannot open checkpoint data (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
      }
      s = { fd, size: fs.fstatSync(fd).size, file };
      this.shardFds.set(i, s);
    }
    return s;
  }

  /** The tensor's raw bytes, range-checked against its shard and CRC-checked. */
  readBytes(name: string): Uint8Array {
    const e = this.entry(name);
    const s = this.shard(e.shard);
    if (e.offset + e.size > s.size)
      throw new Error(
        `${s.file}: tensor "${name}" spans bytes ${e.offset}..${e.offset + e.size}, the file has ${s.size} ` +
          `(truncated?)`,
      );
    const buf = new Uint8Array(e.size);
    let done = 0;
    while (done < e.size) {
      const n = fs.readSync(s.fd, buf, done, e.size - done, e.offset + done);
      if (n === 0) throw new Error(`${s.file}: unexpected end of file reading "${name}"`);
      done += n;
    }
    const actual = e.dtype === 7 ? stringTensorCrc(buf, e, s.file) : crc32c(buf);
    if (actual !== unmaskCrc(e.crc32c)) {
      throw new Error(
        `${s.file}: tensor "${name}" fails its checksum (crc32c 0x${actual.toString(16).padStart(8, '0')}, index ` +
          `0x${unmaskCrc(e.crc32c).toString(16).padStart(8, '0')}): corrupted`,
      );
    }
    return buf;
  }

  entry(name: string): BundleEntry {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.indexPath}: no tensor "${name}"`);
    return e;
  }

  /** Decoded values: float32/float16/bfloat16 as Float32Array, int32, int64 as numbers, strings as bytes. */
  read(name: string): TensorValues {
    const e = this.entry(name);
    const b = this.readBytes(name);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const n = e.shape.reduce((a, c) => a * c, 1);
    switch (e.dtypeName) {
      case 'float32':
        // readBytes returns a fresh, zero-offset buffer: view it rather than copy 4 bytes a value again.
        return new Float32Array(b.buffer, b.byteOffset, n);
      case 'float16':
        return Float32Array.from({ length: n }, (_, i) => fromHalf(dv.getUint16(2 * i, true)));
      case 'bfloat16': {
        // bfloat16 is the top half of a float32.
        const bits = new Uint32Array(n);
        for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
        return new Float32Array(bits.buffer);
      }
      case 'int32':
        return new Int32Array(b.buffer, b.byteOffset, n);
      case 'int64':
        return Array.from({ length: n }, (_, i) => Number(dv.getBigInt64(8 * i, true)));
      case 'string':
        return parseStringTensor(b, n, `${this.dataPath(e.shard)}: tensor "${name}"`);
      default:
        return b;
    }
  }

  close(): void {
    for (const s of this.shardFds.values()) fs.closeSync(s.fd);
    this.shardFds.clear();
  }
}

/** CRC-32C of string lengths as TensorFlow sums them: each as a little-endian uint32 (uint64 past 4 GiB). */
function lengthsCrc(lengths: number[], crc = 0): number {
  for (const len of lengths) {
    const bytes = new Uint8Array(len > 0xffffffff ? 8 : 4);
    const dv = new DataView(bytes.buffer);
    if (bytes.length === 4) dv.setUint32(0, len, true);
    else dv.setBigUint64(0, BigInt(len), true);
    crc = crc32c(bytes, crc);
  }
  return crc;
}

/**
 * A string tensor on disk: varint64 lengths, the masked CRC of those lengths (taken over them as
 * fixed-width integers, not over the varint bytes), then the strings.
 */
function parseStringTensor(b: Uint8Array, n: number, where: string): Uint8Array[] {
  const r = ProtoReader.of(b, where, 'string tensor');
  const lengths: number[] = [];
  for (let i = 0; i < n; i++) lengths.push(r.varint());
  const stored = r.fixed32();
  if (maskCrc(lengthsCrc(lengths)) !== stored) r.fail('length checksum mismatch');
  return lengths.map((len) => {
    if (len > r.end - r.pos) r.fail(`string of ${len} bytes runs past the tensor`);
    const s = b.subarray(r.pos, r.pos + len);
    r.pos += len;
    return s;
  });
}

/**
 * TensorFlow's checksum of a string tensor (tensor_bundle.cc, WriteStringTensor): the CRC runs over
 * each element's length as a little-endian uint32 (uint64 past 4 GiB), then the 4 stored bytes of
 * the masked length checksum, then the string bytes; not over the bytes as laid out on disk.
 */
function stringTensorCrc(b: Uint8Array, e: BundleEntry, file: string): number {
  const n = e.shape.reduce((a, c) => a * c, 1);
  const strings = parseStringTensor(b, n, `${file}: tensor "${e.name}"`);
  let crc = lengthsCrc(strings.map((s) => s.length));
  const r = ProtoReader.of(b, file);
  for (let i = 0; i < n; i++) r.varint();
  crc = crc32c(b.subarray(r.pos, r.pos + 4), crc);
  for (const s of strings) crc = crc32c(s, crc);
  return crc;
}
