// Linear-interpolation resampling of a stream, block by block, for an audio context that runs at
// another rate than the model's 16 kHz (a browser may refuse a 16 kHz AudioContext). Linear
// interpolation is enough for listening to a preview; files are written at the model's rate.

export class LinearResampler {
  /** Source samples per output sample (sourceRate / outputRate). */
  readonly step: number;
  private previous = 0;
  private next = 0;
  /** Position between `previous` and `next`, in [0, 1). */
  private phase = 0;
  private scratch = new Float32Array(0);

  constructor(sourceRate: number, outputRate: number) {
    if (!(sourceRate > 0) || !(outputRate > 0))
      throw new Error(`LinearResampler: rates must be positive, got ${sourceRate} and ${outputRate}`);
    this.step = sourceRate / outputRate;
  }

  /** How many source samples the next `outputs` output samples consume (the same arithmetic as `render`). */
  needed(outputs: number): number {
    let phase = this.phase;
    let taken = 0;
    for (let i = 0; i < outputs; i++) {
      phase += this.step;
      while (phase >= 1) {
        phase -= 1;
        taken++;
      }
    }
    return taken;
  }

  /**
   * Fills `out`, pulling the source samples it needs from `pull` (which fills its argument and
   * returns how many real samples it gave, as SampleRing.read does). Returns that count.
   */
  render(out: Float32Array, pull: (into: Float32Array) => number): number {
    const need = this.needed(out.length);
    if (this.scratch.length < need) this.scratch = new Float32Array(Math.max(need, 2 * this.scratch.length));
    const source = this.scratch.subarray(0, need);
    const got = need > 0 ? pull(source) : 0;
    let k = 0;
    for (let i = 0; i < out.length; i++) {
      out[i] = this.previous + (this.next - this.previous) * this.phase;
      this.phase += this.step;
      while (this.phase >= 1) {
        this.phase -= 1;
        this.previous = this.next;
        this.next = source[k++];
      }
    }
    return got;
  }
}
