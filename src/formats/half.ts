// IEEE 754 half precision <-> float32, round to nearest even: the f16 weights format, TF's
// float16 tensors and tfjs's float16 quantisation all use it.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function toHalf(v: number): number {
  f32[0] = v;
  return halfFromBits(u32[0]);
}

/** A whole array to half precision (a plain loop over the float bits: ~10x faster than mapping toHalf). */
export function floatsToHalf(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = halfFromBits(bits[i]);
  return out;
}

function halfFromBits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * `src` as f16 pairs in u32 words (element 2i in the low half, as WGSL's unpack2x16float reads it),
 * or null if any element is not exactly an f16 (so storing it so would change a result).
 */
export function exactHalfPairs(src: Float32Array): Uint32Array | null {
  const halves = new Uint16Array(src.length + (src.length % 2));
  halves.set(floatsToHalf(src));
  for (let i = 0; i < src.length; i++) if (fromHalf(halves[i]) !== src[i] && !Number.isNaN(src[i])) return null;
  return new Uint32Array(halves.buffer);
}
