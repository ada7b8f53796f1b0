// A minimal protobuf wire-format reader for the few messages we parse by hand (TensorFlow's bundle
// header and entries, tf.train.Example). Every length is checked against the bytes that remain.

export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly where: string,
    readonly what = 'protobuf message',
  ) {
    this.pos = start;
  }
  static of(buf: Uint8Array, where: string, what?: string): ProtoReader {
    return new ProtoReader(buf, 0, buf.length, where, what);
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  fail(problem: string): never {
    throw new Error(`${this.where}: malformed ${this.what} (${problem} at byte ${this.pos})`);
  }
  /** An unsigned varint as a JS number (exact below 2^53). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    this.fail('varint longer than 10 bytes');
  }
  /** A varint read exactly as a signed 64-bit integer (negatives take 10 bytes), as a number. */
  int64(): number {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return Number(BigInt.asIntN(64, result));
    }
    this.fail('varint longer than 10 bytes');
  }
  fixed32(): number {
    this.need(4);
    const v =
      (this.buf[this.pos] |
        (this.buf[this.pos + 1] << 8) |
        (this.buf[this.pos + 2] << 16) |
        (this.buf[this.pos + 3] << 24)) >>>
      0;
    this.pos += 4;
    return v;
  }
  /** A length-delimited field as a reader over its bytes. */
  sub(what = this.what): ProtoReader {
    const n = this.varint();
    if (n > this.end - this.pos) this.fail(`length ${n} runs past the end (${this.end - this.pos} bytes left)`);
    const r = new ProtoReader(this.buf, this.pos, this.pos + n, this.where, what);
    this.pos += n;
    return r;
  }
  bytes(): Uint8Array {
    const r = this.sub();
    return this.buf.subarray(r.start, r.end);
  }
  string(): string {
    return new TextDecoder().decode(this.bytes());
  }
  /** Reads the next field key: [field number, wire type]. */
  key(): [number, number] {
    const k = this.varint();
    return [Math.floor(k / 8), k & 7];
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.advance(8);
    else if (wire === 2) this.sub();
    else if (wire === 5) this.advance(4);
    else this.fail(`unsupported wire type ${wire}`);
  }
  advance(n: number): void {
    this.need(n);
    this.pos += n;
  }
  private need(n: number): void {
    if (n > this.end - this.pos) this.fail('truncated field');
  }
}

// --- writing (tests and exporters) ---

export function varintBytes(v: number | bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, BigInt(v));
  while (x >= 128n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

export function concatBytes(parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of arrays) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function fieldVarint(field: number, v: number | bigint): number[] {
  return [...varintBytes(field * 8), ...varintBytes(v)];
}

export function fieldBytes(field: number, body: Uint8Array): Uint8Array {
  return concatBytes([varintBytes(field * 8 + 2), varintBytes(body.length), body]);
}

export function fieldFixed32(field: number, v: number): number[] {
  return [...varintBytes(field * 8 + 5), v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
