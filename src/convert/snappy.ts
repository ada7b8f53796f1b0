// Raw Snappy decompression (the block compression of TensorFlow's table files, type byte 1):
// a varint uncompressed length, then literals and back-references. Every length and offset is
// checked against the input and the declared output, so corrupted input is an error, never an
// out-of-bounds read or an allocation larger than `maxOutput`.
import { concatBytes, varintBytes } from '../formats/protobuf.js';

export function snappyUncompressedLength(src: Uint8Array, where: string): { length: number; headerBytes: number } {
  let length = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (i >= src.length) throw new Error(`${where}: Snappy block truncated in its length header`);
    const b = src[i];
    length += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return { length, headerBytes: i + 1 };
    scale *= 128;
  }
  throw new Error(`${where}: Snappy length header longer than 5 bytes`);
}

export function snappyDecompress(src: Uint8Array, where: string, maxOutput = 64 * 1024 * 1024): Uint8Array {
  const { length, headerBytes } = snappyUncompressedLength(src, where);
  if (length > maxOutput)
    throw new Error(`${where}: Snappy block claims ${length} bytes, more than the ${maxOutput}-byte limit`);
  const out = new Uint8Array(length);
  let ip = headerBytes;
  let op = 0;
  const need = (n: number, what: string) => {
    if (ip + n > src.length) throw new Error(`${where}: Snappy ${what} runs past the end of the block`);
  };
  while (ip < src.length) {
    const tag = src[ip++];
    const kind = tag & 3;
    if (kind === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const extra = len - 60; // 1..4 bytes of length - 1
        need(extra, 'literal length');
        len = 0;
        for (let i = 0; i < extra; i++) len += src[ip + i] * 2 ** (8 * i);
        len += 1;
        ip += extra;
      }
      need(len, 'literal');
      if (op + len > length) throw new Error(`${where}: Snappy literal overflows the declared ${length} bytes`);
      out.set(src.subarray(ip, ip + len), op);
      ip += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      need(1, 'copy');
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | src[ip++];
    } else if (kind === 2) {
      need(2, 'copy');
      len = (tag >>> 2) + 1;
      offset = src[ip] | (src[ip + 1] << 8);
      ip += 2;
    } else {
      need(4, 'copy');
      len = (tag >>> 2) + 1;
      offset = (src[ip] | (src[ip + 1] << 8) | (src[ip + 2] << 16)) + src[ip + 3] * 2 ** 24;
      ip += 4;
    }
    if (offset === 0 || offset > op)
      throw new Error(`${where}: Snappy copy offset ${offset} outside the ${op} bytes written`);
    if (op + len > length) throw new Error(`${where}: Snappy copy overflows the declared ${length} bytes`);
    // Byte by byte: a copy may overlap its own output (run-length style).
    for (let i = 0; i < len; i++, op++) out[op] = out[op - offset];
  }
  if (op !== length) throw new Error(`${where}: Snappy block produced ${op} bytes, its header says ${length}`);
  return out;
}

/** A valid Snappy encoding using literals only (tests and writers that need the compressed type). */
export function snappyLiteralEncode(data: Uint8Array): Uint8Array {
  const chunks: (Uint8Array | number[])[] = [varintBytes(data.length)];
  for (let at = 0; at < data.length; at += 65536) {
    const piece = data.subarray(at, Math.min(data.length, at + 65536));
    const l = piece.length - 1;
    chunks.push(l < 60 ? [l << 2] : [61 << 2, l & 0xff, l >>> 8], piece);
  }
  return concatBytes(chunks);
}
