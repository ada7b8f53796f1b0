// TFRecord files: a sequence of records, each
//   uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of data.
// Reading is streamed (a 20 GB file is read record by record at known offsets, never whole), every
// CRC is checked, and a length is trusted only after its own CRC matched and it fits in the file.
import * as fs from 'node:fs';
import { crc32c, maskCrc } from '../util/crc32c.js';

/** No NSynth record comes near this; a larger (CRC-valid) length is refused rather than allocated. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export interface RecordRef {
  /** Byte offset of the record's header. */
  offset: number;
  /** Bytes of data. */
  length: number;
}

export class TfRecordReader {
  private readonly fd: number;
  readonly size: number;
  private readonly header = new Uint8Array(12);

  constructor(readonly file: string) {
    try {
      this.fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new Error(`${file}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    this.size = fs.fstatSync(this.fd).size;
  }

  /** Reads and checks the header at `offset`; returns the record's extent. */
  headerAt(offset: number, index: number): RecordRef {
    const where = `${this.file}: record ${index} at byte ${offset}`;
    if (offset + 12 > this.size) throw new Error(`${where}: truncated header (${this.size - offset} bytes left)`);
    this.readExact(this.header, offset);
    const dv = new DataView(this.header.buffer);
    const lo = dv.getUint32(0, true);
    const hi = dv.getUint32(4, true);
    if (maskCrc(crc32c(this.header.subarray(0, 8))) !== dv.getUint32(8, true))
      throw new Error(`${where}: length CRC mismatch (corrupted header)`);
    const length = hi * 2 ** 32 + lo;
    if (length > MAX_RECORD_BYTES)
      throw new Error(`${where}: length ${length} exceeds the ${MAX_RECORD_BYTES}-byte limit`);
    if (offset + 12 + length + 4 > this.size)
      throw new Error(`${where}: truncated (needs ${length + 16} bytes, ${this.size - offset} left)`);
    return { offset, length };
  }

  /** The record's data, CRC-checked. */
  read(ref: RecordRef, index: number): Uint8Array {
    const data = new Uint8Array(ref.length + 4);
    this.readExact(data, ref.offset + 12);
    const body = data.subarray(0, ref.length);
    const stored = new DataView(data.buffer).getUint32(ref.length, true);
    if (maskCrc(crc32c(body)) !== stored)
      throw new Error(`${this.file}: record ${index} at byte ${ref.offset}: data CRC mismatch (corrupted record)`);
    return body;
  }

  /** Every record in order: the index pass reads each one once (bounded memory), checking both CRCs. */
  *records(): Generator<{ ref: RecordRef; index: number; data: Uint8Array }> {
    let offset = 0;
    for (let index = 0; offset < this.size; index++) {
      const ref = this.headerAt(offset, index);
      yield { ref, index, data: this.read(ref, index) };
      offset += ref.length + 16;
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  private readExact(buf: Uint8Array, position: number): void {
    let done = 0;
    while (done < buf.length) {
      const n = fs.readSync(this.fd, buf, done, buf.length - done, position + done);
      if (n === 0) throw new Error(`${this.file}: unexpected end of file at byte ${position + done}`);
      done += n;
    }
  }
}

/** Frames records as a TFRecord file's bytes (the writer used for tests, synthetic data and exports). */
export function encodeTfRecords(records: Uint8Array[]): Uint8Array {
  const total = records.reduce((n, r) => n + r.length + 16, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const r of records) {
    dv.setUint32(at, r.length >>> 0, true);
    dv.setUint32(at + 4, Math.floor(r.length / 2 ** 32), true);
    dv.setUint32(at + 8, maskCrc(crc32c(out.subarray(at, at + 8))), true);
    out.set(r, at + 12);
    dv.setUint32(at + 12 + r.length, maskCrc(crc32c(r)), true);
    at += r.length + 16;
  }
  return out;
}
