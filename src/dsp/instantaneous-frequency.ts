// Instantaneous frequency as NSynth's rainbowgrams and the baseline's phase option define it: the
// phase unwrapped along time, differenced between frames, over pi. Frame 0 keeps its raw phase / pi.
// Unwrapping then differencing is the same as wrapping each difference into (-pi, pi].

/** `re`, `im`: frame t, bin k at t * bins + k. Returns the same layout, values in (-1, 1] after frame 0. */
export function instantaneousFrequency(re: Float32Array, im: Float32Array, bins: number): Float32Array {
  if (re.length !== im.length || re.length % bins !== 0)
    throw new Error(`instantaneousFrequency: ${re.length} / ${im.length} values are not frames of ${bins} bins`);
  const out = new Float32Array(re.length);
  for (let k = 0; k < bins; k++) {
    let previous = Math.atan2(im[k], re[k]);
    out[k] = previous / Math.PI;
    for (let i = bins + k; i < re.length; i += bins) {
      const phase = Math.atan2(im[i], re[i]);
      out[i] = wrap(phase - previous) / Math.PI;
      previous = phase;
    }
  }
  return out;
}

/** An angle moved into (-pi, pi] by whole turns (numpy's unwrap keeps +pi for a jump of exactly +pi). */
export function wrap(angle: number): number {
  const turns = Math.round(angle / (2 * Math.PI));
  let a = angle - turns * 2 * Math.PI;
  if (a <= -Math.PI) a += 2 * Math.PI;
  return a;
}
