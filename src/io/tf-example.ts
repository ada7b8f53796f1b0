// tf.train.Example, the protobuf inside NSynth's TFRecords, decoded and encoded by hand:
//   Example { Features features = 1 }   Features { map<string, Feature> feature = 1 }
//   Feature { oneof { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3 } }
//   *List { repeated value = 1 }  (floats and int64s packed or not; both are accepted)
// Every length is checked against the bytes that remain, so a corrupted message is an error, not a
// huge allocation or an endless loop.
import { ProtoReader, concatBytes, fieldBytes, varintBytes } from './protobuf.js';

export type Feature =
  | { kind: 'bytes'; values: Uint8Array[] }
  | { kind: 'float'; values: Float32Array }
  | { kind: 'int64'; values: number[] };

function parseFeature(c: ProtoReader): Feature {
  let f: Feature | null = null;
  while (!c.done) {
    const key = c.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire !== 2 || field < 1 || field > 3) {
      c.skip(wire);
      continue;
    }
    const list = c.sub();
    if (field === 1) {
      const values: Uint8Array[] = [];
      while (!list.done) {
        const k = list.varint();
        if (k !== 10) { list.skip(k & 7); continue; }
        const s = list.sub();
        values.push(list.buf.subarray(s.start, s.end));
      }
      f = { kind: 'bytes', values };
    } else if (field === 2) {
      const out: number[] = [];
      while (!list.done) {
        const k = list.varint();
        if (k === 10) {
          const s = list.sub();
          if ((s.end - s.start) % 4 !== 0) s.fail('packed float list length not a multiple of 4');
          const dv = new DataView(s.buf.buffer, s.buf.byteOffset + s.start, s.end - s.start);
          for (let i = 0; i < dv.byteLength; i += 4) out.push(dv.getFloat32(i, true));
        } else if (k === 13) {
          const at = list.pos;
          list.advance(4);
          out.push(new DataView(list.buf.buffer, list.buf.byteOffset + at, 4).getFloat32(0, true));
        } else list.skip(k & 7);
      }
      f = { kind: 'float', values: Float32Array.from(out) };
    } else {
      const values: number[] = [];
      while (!list.done) {
        const k = list.varint();
        if (k === 10) {
          const s = list.sub();
          while (!s.done) values.push(s.int64());
        } else if (k === 8) values.push(list.int64());
        else list.skip(k & 7);
      }
      f = { kind: 'int64', values };
    }
  }
  if (!f) throw new Error(`${c.where}: malformed tf.train.Example (feature with no value list)`);
  return f;
}

/** Decodes an Example into its features by name. `where` names the file and record for errors. */
export function decodeExample(bytes: Uint8Array, where: string): Map<string, Feature> {
  const out = new Map<string, Feature>();
  const top = ProtoReader.of(bytes, where, 'tf.train.Example');
  while (!top.done) {
    const key = top.varint();
    if (key !== 10) { top.skip(key & 7); continue; }
    const features = top.sub();
    while (!features.done) {
      const k = features.varint();
      if (k !== 10) { features.skip(k & 7); continue; }
      const entry = features.sub();
      let name: string | null = null;
      let value: Feature | null = null;
      while (!entry.done) {
        const ek = entry.varint();
        if (ek === 10) {
          const s = entry.sub();
          name = new TextDecoder().decode(s.buf.subarray(s.start, s.end));
        } else if (ek === 18) value = parseFeature(entry.sub());
        else entry.skip(ek & 7);
      }
      if (name === null || value === null) throw new Error(`${where}: malformed tf.train.Example (feature map entry ${name === null ? 'without a key' : `"${name}" without a value`})`);
      out.set(name, value);
    }
  }
  return out;
}

function encodeFeature(f: Feature): Uint8Array {
  let list: Uint8Array;
  if (f.kind === 'bytes') list = concatBytes(f.values.map((v) => fieldBytes(1, v)));
  else if (f.kind === 'float') list = fieldBytes(1, new Uint8Array(Float32Array.from(f.values).buffer));
  else list = fieldBytes(1, Uint8Array.from(f.values.flatMap((v) => varintBytes(v))));
  return fieldBytes(f.kind === 'bytes' ? 1 : f.kind === 'float' ? 2 : 3, list);
}

/** Encodes features as a tf.train.Example (packed lists, as TensorFlow writes them). */
export function encodeExample(features: Map<string, Feature> | Record<string, Feature>): Uint8Array {
  const entries = features instanceof Map ? [...features] : Object.entries(features);
  const body = concatBytes(entries.map(([name, f]) => fieldBytes(1, concatBytes([fieldBytes(1, new TextEncoder().encode(name)), fieldBytes(2, encodeFeature(f))]))));
  return fieldBytes(1, body);
}
