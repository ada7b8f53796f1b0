// NumPy .npy files (format 1.0/2.0/3.0), float32 out, float32/float64 in, so that any other
// implementation can be checked against ours from Python.
export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array {
  if (shape.reduce((a, b) => a * b, 1) !== data.length)
    throw new Error(`npy: ${data.length} values do not fill shape [${shape}]`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pre = 10;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = `${header.padEnd(total - pre - 1, ' ')}\n`;
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

export function decodeNpy(bytes: Uint8Array, where: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m))
    throw new Error(`${where}: not a .npy file (bad magic)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hlen: number;
  let pre: number;
  if (major === 1) {
    hlen = view.getUint16(8, true);
    pre = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(`${where}: truncated header`);
    hlen = view.getUint32(8, true);
    pre = 12;
  } else throw new Error(`${where}: unsupported .npy version ${major}`);
  if (pre + hlen > bytes.length) throw new Error(`${where}: header runs past the end of the file`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(pre, pre + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined)
    throw new Error(`${where}: unreadable header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw new Error(`${where}: Fortran-ordered arrays are not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length)
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new Error(`${where}: bad shape (${shapeText})`);
  const n = shape.reduce((a, b) => a * b, 1);
  const size = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (!size) throw new Error(`${where}: dtype ${descr} is not supported (use float32 or float64)`);
  const body = bytes.subarray(pre + hlen);
  if (body.length !== n * size)
    throw new Error(`${where}: ${body.length} data bytes, shape [${shape}] of ${descr} needs ${n * size}`);
  const copy = new Uint8Array(body).buffer; // a real copy (Buffer.slice would only be a view)
  const data = size === 4 ? new Float32Array(copy) : Float32Array.from(new Float64Array(copy));
  return { data, shape };
}
