// A single-producer / single-consumer ring of float samples between a generator and an audio
// callback: the producer writes whole chunks (all or nothing, so a refused chunk can be offered
// again without a tear in the signal), the consumer reads one render quantum at a time. It counts
// underruns the way a listener hears them: once per starvation episode, and only after playback
// has begun. Playback begins when `prebuffer` samples are buffered (or the producer has ended), and
// after an underrun it waits for the prebuffer to fill again rather than stuttering sample by sample.
// Plain arrays and counters, no DOM: it runs in an AudioWorklet, in Node and in tests.

export interface SampleRingOptions {
  /** Samples buffered before playback starts, and again after an underrun (default 0: play at once). */
  prebuffer?: number;
}

export interface SampleRingState {
  /** Samples written by the producer / read by the consumer since the start (silence not counted). */
  written: number;
  consumed: number;
  buffered: number;
  /** Starvation episodes after playback had started (the producer had not ended). */
  underruns: number;
  /** Silent samples given to the consumer during underruns. */
  starvedSamples: number;
  /** Writes refused because the chunk did not fit. */
  overflows: number;
  /** Playback has begun (the first prebuffer filled, or the producer ended). */
  started: boolean;
  /** The producer has ended and every sample has been read. */
  drained: boolean;
}

export class SampleRing {
  readonly capacity: number;
  readonly prebuffer: number;
  private readonly data: Float32Array;
  // Monotonic counts (exact as doubles far beyond any audio's length); positions are them mod capacity.
  private writeCount = 0;
  private readCount = 0;
  private playing = false;
  private everStarted = false;
  private ended = false;
  private underrunCount = 0;
  private starved = 0;
  private overflowCount = 0;

  constructor(capacity: number, o: SampleRingOptions = {}) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`SampleRing: capacity must be a positive integer, got ${capacity}`);
    const prebuffer = o.prebuffer ?? 0;
    if (!Number.isInteger(prebuffer) || prebuffer < 0 || prebuffer > capacity)
      throw new Error(
        `SampleRing: prebuffer must be an integer from 0 to the capacity (${capacity}), got ${prebuffer}`,
      );
    this.capacity = capacity;
    this.prebuffer = prebuffer;
    this.data = new Float32Array(capacity);
  }

  get buffered(): number {
    return this.writeCount - this.readCount;
  }

  get free(): number {
    return this.capacity - this.buffered;
  }

  get started(): boolean {
    return this.everStarted;
  }

  get drained(): boolean {
    return this.ended && this.buffered === 0;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * Appends `samples` whole, or refuses them (returns false, counts an overflow, changes nothing)
   * when they do not fit: the producer keeps them and offers them again once the consumer has read.
   */
  write(samples: Float32Array): boolean {
    if (this.ended) throw new Error('SampleRing: write after end()');
    if (samples.length > this.free) {
      this.overflowCount++;
      return false;
    }
    const at = this.writeCount % this.capacity;
    const first = Math.min(samples.length, this.capacity - at);
    this.data.set(samples.subarray(0, first), at);
    if (first < samples.length) this.data.set(samples.subarray(first), 0);
    this.writeCount += samples.length;
    return true;
  }

  /** The producer has no more samples: what is buffered plays out, and running dry is no underrun. */
  end(): void {
    this.ended = true;
  }

  /**
   * Fills `out` with the next samples, and silence where there are none (before playback starts,
   * while refilling after an underrun, after the end). Returns how many samples came from the ring.
   */
  read(out: Float32Array): number {
    if (!this.playing) {
      const ready = this.buffered > 0 && (this.buffered >= this.prebuffer || this.ended);
      if (!ready) {
        out.fill(0);
        // Silence while refilling after an underrun is part of that episode's gap.
        if (this.everStarted && !this.ended) this.starved += out.length;
        return 0;
      }
      this.playing = true;
      this.everStarted = true;
    }
    const n = Math.min(out.length, this.buffered);
    const at = this.readCount % this.capacity;
    const first = Math.min(n, this.capacity - at);
    out.set(this.data.subarray(at, at + first));
    if (first < n) out.set(this.data.subarray(0, n - first), first);
    out.fill(0, n);
    this.readCount += n;
    if (n < out.length) {
      this.playing = false;
      if (!this.ended) {
        this.underrunCount++;
        this.starved += out.length - n;
      }
    }
    return n;
  }

  state(): SampleRingState {
    return {
      written: this.writeCount,
      consumed: this.readCount,
      buffered: this.buffered,
      underruns: this.underrunCount,
      starvedSamples: this.starved,
      overflows: this.overflowCount,
      started: this.everStarted,
      drained: this.drained,
    };
  }
}
