// A TensorFlow checkpoint (V2 bundle) writer for tests, following the format byte for byte:
// tensors concatenated in the data file; the index an SSTable of data blocks (prefix-compressed
// keys, a restart every 16 entries), an empty metaindex block, an index block (a restart per
// entry) and the 48-byte footer; every block followed by its type byte and masked CRC-32C. The
// first key is "" (the BundleHeaderProto), the rest are tensor names in bytewise order.
import * as fs from 'node:fs';
import { crc32c, maskCrc } from '../src/util/crc32c.js';
import { concatBytes, fieldBytes, fieldFixed32, fieldVarint, varintBytes } from '../src/formats/protobuf.js';
import { snappyLiteralEncode } from '../src/convert/snappy.js';

export interface BundleTensor {
  /** TensorFlow DataType enum: 1 float32, 3 int32, 9 int64, 19 float16 ... */
  dtype: number;
  shape: number[];
  bytes: Uint8Array;
}

export interface WriterOptions {
  /** Uncompressed bytes per data block before a new one starts (TF: 262144). */
  blockSize?: number;
  /** Store data blocks Snappy-compressed (type 1). */
  snappy?: boolean;
}

export interface WrittenIndex {
  index: Uint8Array;
  data: Uint8Array;
  /** Where the data blocks' contents lie in the index (for fuzzing inside a block). */
  dataBlocks: { offset: number; size: number }[];
}

export function f32Bytes(a: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(a).buffer);
}

function entryProto(t: BundleTensor, offset: number): Uint8Array {
  const shape = concatBytes(t.shape.map((d) => fieldBytes(2, Uint8Array.from(fieldVarint(1, d)))));
  return concatBytes([
    fieldVarint(1, t.dtype),
    fieldBytes(2, shape),
    fieldVarint(4, offset),
    fieldVarint(5, t.bytes.length),
    fieldFixed32(6, maskCrc(crc32c(t.bytes))),
  ]);
}

function headerProto(): Uint8Array {
  return concatBytes([fieldVarint(1, 1), fieldBytes(3, Uint8Array.from(fieldVarint(1, 1)))]);
}

function buildBlock(entries: [Uint8Array, Uint8Array][], restartInterval: number): Uint8Array {
  const parts: (Uint8Array | number[])[] = [];
  const restarts: number[] = [];
  let size = 0;
  let prev: Uint8Array = new Uint8Array(0);
  entries.forEach(([key, value], i) => {
    let shared = 0;
    if (i % restartInterval === 0) restarts.push(size);
    else while (shared < prev.length && shared < key.length && prev[shared] === key[shared]) shared++;
    const head = [...varintBytes(shared), ...varintBytes(key.length - shared), ...varintBytes(value.length)];
    parts.push(head, key.subarray(shared), value);
    size += head.length + key.length - shared + value.length;
    prev = key;
  });
  if (restarts.length === 0) restarts.push(0);
  const tail = new Uint8Array(4 * (restarts.length + 1));
  const dv = new DataView(tail.buffer);
  restarts.forEach((r, i) => {
    dv.setUint32(4 * i, r, true);
  });
  dv.setUint32(4 * restarts.length, restarts.length, true);
  return concatBytes([...parts, tail]);
}

export function writeBundleBytes(tensors: Map<string, BundleTensor>, o: WriterOptions = {}): WrittenIndex {
  const names = [...tensors.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const enc = new TextEncoder();
  const dataParts: Uint8Array[] = [];
  const kv: [Uint8Array, Uint8Array][] = [[new Uint8Array(0), headerProto()]];
  let offset = 0;
  for (const n of names) {
    const t = tensors.get(n)!;
    kv.push([enc.encode(n), entryProto(t, offset)]);
    dataParts.push(t.bytes);
    offset += t.bytes.length;
  }
  const file: Uint8Array[] = [];
  let at = 0;
  const dataBlocks: { offset: number; size: number }[] = [];
  const writeBlock = (contents: Uint8Array, compress: boolean): { offset: number; size: number } => {
    const stored = compress ? snappyLiteralEncode(contents) : contents;
    const body = concatBytes([stored, [compress ? 1 : 0]]);
    const trailer = new Uint8Array(4);
    new DataView(trailer.buffer).setUint32(0, maskCrc(crc32c(body)), true);
    const h = { offset: at, size: stored.length };
    file.push(body, trailer);
    at += body.length + 4;
    return h;
  };
  const indexEntries: [Uint8Array, Uint8Array][] = [];
  const blockSize = o.blockSize ?? 262144;
  let current: [Uint8Array, Uint8Array][] = [];
  let currentBytes = 0;
  const flush = () => {
    if (!current.length) return;
    const h = writeBlock(buildBlock(current, 16), !!o.snappy);
    dataBlocks.push(h);
    // The index key only has to be >= the block's last key and < the next block's first: use the last key.
    indexEntries.push([
      current[current.length - 1][0],
      Uint8Array.from([...varintBytes(h.offset), ...varintBytes(h.size)]),
    ]);
    current = [];
    currentBytes = 0;
  };
  for (const e of kv) {
    current.push(e);
    currentBytes += e[0].length + e[1].length + 3;
    if (currentBytes >= blockSize) flush();
  }
  flush();
  const meta = writeBlock(buildBlock([], 1), false);
  const index = writeBlock(buildBlock(indexEntries, 1), false);
  const footer = new Uint8Array(48);
  footer.set([
    ...varintBytes(meta.offset),
    ...varintBytes(meta.size),
    ...varintBytes(index.offset),
    ...varintBytes(index.size),
  ]);
  const fdv = new DataView(footer.buffer);
  fdv.setUint32(40, 0x8b80fb57, true);
  fdv.setUint32(44, 0xdb477524, true);
  file.push(footer);
  return { index: concatBytes(file), data: concatBytes(dataParts), dataBlocks };
}

/** Writes PREFIX.index and PREFIX.data-00000-of-00001. */
export function writeBundle(prefix: string, tensors: Map<string, BundleTensor>, o: WriterOptions = {}): WrittenIndex {
  const w = writeBundleBytes(tensors, o);
  fs.writeFileSync(`${prefix}.index`, w.index);
  fs.writeFileSync(`${prefix}.data-00000-of-00001`, w.data);
  return w;
}

/** Recomputes a block's trailer CRC after its contents were changed (fuzzing past the checksum). */
export function resealBlock(index: Uint8Array, block: { offset: number; size: number }): void {
  const crc = maskCrc(crc32c(index.subarray(block.offset, block.offset + block.size + 1)));
  new DataView(index.buffer, index.byteOffset).setUint32(block.offset + block.size + 1, crc, true);
}
