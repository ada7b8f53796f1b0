// tf.train.Example, the protobuf inside NSynth's TFRecords, decoded and encoded by hand:
//   Example { Features features = 1 }   Features { map<string, Feature> feature = 1 }
//   Feature { oneof { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3 } }
//   *List { repeated value = 1 }  (floats and int64s packed or not; both are accepted)
// Every length is checked against the bytes that remain, so a corrupted message is an error, not a
// huge allocation or an endless loop.
import { ProtoReader, concatBytes, fieldBytes, varintBytes } from '../formats/protobuf.js';

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
        if (k !== 10) {
          list.skip(k & 7);
          continue;
        }
        const s = list.sub();
        values.push(list.buf.subarray(s.start, s.end));
      }
      f = { kind: 'bytes', values };
    } else if (field === 2) {
      const runs: Float32Array[] = [];
      while (!list.done) {
        const k = list.varint();
        if (k === 10) {
          const s = list.sub();
          if ((s.end - s.start) % 4 !== 0) s.fail('packed float list length not a multiple of 4');
          runs.push(littleEndianFloats(s.buf.subarray(s.start, s.end)));
        } else if (k === 13) {
          const at = list.pos;
          list.advance(4);
          runs.push(littleEndianFloats(list.buf.subarray(at, at + 4)));
        } else list.skip(k & 7);
      }
      f = { kind: 'float', values: runs.length === 1 ? runs[0] : joinFloats(runs) };
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

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Floats stored little-endian (protobuf's fixed32), copied out. */
function littleEndianFloats(b: Uint8Array): Float32Array {
  if (LITTLE_ENDIAN) return new Float32Array(b.slice().buffer);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Float32Array.from({ length: b.length / 4 }, (_, i) => dv.getFloat32(4 * i, true));
}

function joinFloats(runs: Float32Array[]): Float32Array {
  const out = new Float32Array(runs.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of runs) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/**
 * Decodes an Example into its features by name. `where` names the file and record for errors.
 * With `only`, other features are skipped without decoding their values (an index pass over
 * NSynth reads the labels, not the 64,000-sample audio).
 */
export function decodeExample(bytes: Uint8Array, where: string, only?: ReadonlySet<string>): Map<string, Feature> {
  const out = new Map<string, Feature>();
  const top = ProtoReader.of(bytes, where, 'tf.train.Example');
  while (!top.done) {
    const key = top.varint();
    if (key !== 10) {
      top.skip(key & 7);
      continue;
    }
    const features = top.sub();
    while (!features.done) {
      const k = features.varint();
      if (k !== 10) {
        features.skip(k & 7);
        continue;
      }
      const entry = features.sub();
      let name: string | null = null;
      let value: Feature | null = null;
      let skipped = false;
      while (!entry.done) {
        const ek = entry.varint();
        if (ek === 10) {
          const s = entry.sub();
          name = new TextDecoder().decode(s.buf.subarray(s.start, s.end));
        } else if (ek === 18) {
          const v = entry.sub();
          if (only && name !== null && !only.has(name)) skipped = true;
          else value = parseFeature(v);
        } else entry.skip(ek & 7);
      }
      if (skipped) continue;
      if (name === null || value === null)
        throw new Error(
          `${where}: malformed tf.train.Example (feature map entry ` +
            `${name === null ? 'without a key' : `"${name}" without a value`})`,
        );
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
  const body = concatBytes(
    entries.map(([name, f]) =>
      fieldBytes(1, concatBytes([fieldBytes(1, new TextEncoder().encode(name)), fieldBytes(2, encodeFeature(f))])),
    ),
  );
  return fieldBytes(1, body);
}
