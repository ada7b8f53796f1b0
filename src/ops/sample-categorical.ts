// The plain-TypeScript mirror of kernels/lib_sample_categorical.wgsl: the same counter-based RNG
// and the same sampling rule, for the naive generator and for tests.

function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> (((state >>> 28) + 4) >>> 0)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** A voice's RNG key from (seed, voice): what the generation kernels read per voice. */
export function voiceKey(seed: number, voice: number): number {
  return pcgHash((voice + pcgHash(seed >>> 0)) >>> 0);
}

/** Uniform in [0, 1) from (seed, voice, step), bit-identical to the WGSL uniform01_keyed(voiceKey(seed, voice), step). */
export function uniform01(seed: number, voice: number, step: number): number {
  const h = pcgHash((step + voiceKey(seed, voice)) >>> 0);
  return (h >>> 8) / 16777216;
}

/** Softmax(logits / temperature) sampled by inverse CDF with uniform u; temperature 0 = argmax. */
export function sampleCategorical(logits: ArrayLike<number>, temperature: number, u: number): number {
  const n = logits.length;
  let mx = -Infinity;
  for (let i = 0; i < n; i++) mx = Math.max(mx, logits[i]);
  if (temperature <= 0) {
    for (let i = 0; i < n; i++) if (logits[i] === mx) return i;
    return 0;
  }
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) cdf[i] = acc += Math.exp((logits[i] - mx) / temperature);
  const target = u * acc;
  let k = 0;
  while (k < n && cdf[k] <= target) k++;
  return Math.min(k, n - 1);
}

/** Softmax probabilities at a temperature (for tests). */
export function softmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  let mx = -Infinity;
  for (let i = 0; i < logits.length; i++) mx = Math.max(mx, logits[i]);
  const p = Float64Array.from(logits, (v) => Math.exp((v - mx) / temperature));
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / s);
}
