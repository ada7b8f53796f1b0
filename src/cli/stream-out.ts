// `nsynth generate --out -`: raw 16-bit PCM (s16le, mono, 16 kHz) on stdout as the chunks arrive,
// for a player on the other end of a pipe (aplay, ffplay, sox). It waits for the pipe when the
// player is behind ('drain'), stops cleanly when the player goes away (EPIPE), and counts the
// underruns a real-time player would have had.
import type { NSynthModel } from '../nsynth.js';
import type { HostTensor } from '../model/inputs.js';
import { encodePcm16 } from '../formats/wav.js';
import { progressBar, tuningNotes } from './output.js';

/**
 * A real-time player's view of a stream: it starts once `prebuffer` samples have arrived, then plays
 * `sampleRate` samples a second. When what has arrived falls behind what it has played, it runs dry:
 * one underrun, and it waits for a prebuffer again (as ALSA restarts after an xrun).
 */
export class PlaybackClock {
  underruns = 0;
  /** Samples that have arrived. */
  private arrived = 0;
  private playing = false;
  /** Wall time (seconds) playback last (re)started, and the samples played before it. */
  private since = 0;
  private playedBefore = 0;

  constructor(
    private readonly sampleRate: number,
    private readonly prebuffer: number,
  ) {}

  /** `samples` more arrive at wall time `now` (seconds, any origin, never decreasing). */
  arrive(samples: number, now: number): void {
    if (this.playing && this.playedBefore + (now - this.since) * this.sampleRate > this.arrived) {
      this.underruns++;
      this.playing = false;
      this.playedBefore = this.arrived;
    }
    this.arrived += samples;
    if (!this.playing && this.arrived - this.playedBefore >= this.prebuffer) {
      this.playing = true;
      this.since = now;
    }
  }
}

export interface StreamReport {
  /** Samples written to the pipe. */
  samples: number;
  /** Wall-clock seconds from the first step to the last chunk. */
  seconds: number;
  /** Seconds of audio per second of wall time (1: real time; as `nsynth bench generate`). */
  realtimeFactor: number;
  underruns: number;
  prebufferSeconds: number;
  /** `end`: all of it; `closed`: the reader went away (EPIPE); `interrupted`: Ctrl-C. */
  ended: 'end' | 'closed' | 'interrupted';
}

export interface StreamOptions {
  seed: number;
  temperature: number;
  pitch?: number;
  /** Seconds the modelled player buffers before it starts. */
  prebuffer: number;
  quiet?: boolean;
  json?: boolean;
}

/** Resolves when `out` wants more ('drain'), or can take no more (closed, failed, or the work was stopped). */
function drained(out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
    out.once('error', done);
    signal.addEventListener('abort', done);
  });
}

/** One voice generated from `embedding`, written to `out` as s16le while it is generated. */
export async function streamPcm(
  model: NSynthModel,
  embedding: HostTensor,
  o: StreamOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<StreamReport> {
  const c = model.config;
  const total = embedding.shape[0] * c.hop;
  const clock = new PlaybackClock(c.sampleRate, Math.round(o.prebuffer * c.sampleRate));
  const ac = new AbortController();
  let ended: StreamReport['ended'] = 'end';
  let failure: Error | null = null;
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') ended = 'closed';
    else failure = new Error(`stdout: ${e.message}`);
    ac.abort();
  };
  const onSigint = () => {
    ended = 'interrupted';
    ac.abort();
  };
  out.on('error', onError);
  process.once('SIGINT', onSigint);
  const bar = progressBar('streaming |{bar}| {percentage}% | {value}/{total} samples | {rate}x real time', o);
  bar?.start(total, 0, { rate: '-' });
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  let samples = 0;
  try {
    for await (const chunk of model.stream(embedding, {
      seed: o.seed,
      temperature: o.temperature,
      pitch: o.pitch,
      signal: ac.signal,
      onTuning: tuningNotes(o),
    })) {
      const audio = chunk.audio[0].subarray(0, Math.max(0, total - chunk.start));
      // The chunk exists from now; a wait for the pipe below is the player's doing, not the generator's.
      const now = elapsed();
      if (!out.write(encodePcm16(audio))) await drained(out, ac.signal);
      if (ac.signal.aborted) break;
      clock.arrive(audio.length, now);
      samples += audio.length;
      bar?.update(samples, { rate: (samples / c.sampleRate / elapsed()).toFixed(2) });
    }
  } catch (e) {
    // A stop we asked for (the reader left, Ctrl-C) ends the stream as the generator says: AbortError.
    if (!(ac.signal.aborted && (e as Error).name === 'AbortError')) throw e;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
  }
  const seconds = elapsed();
  // What is written reaches the pipe before the command returns (and the process exits).
  if (!ac.signal.aborted) await new Promise<void>((resolve) => out.write(new Uint8Array(0), () => resolve()));
  // onError stays: a reader that leaves after the last write must not become an uncaught 'error'.
  if (failure) throw failure;
  return {
    samples,
    seconds,
    realtimeFactor: samples / c.sampleRate / seconds,
    underruns: clock.underruns,
    prebufferSeconds: o.prebuffer,
    ended,
  };
}
