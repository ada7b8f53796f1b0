// Playing generation live in the browser: each chunk of `model.stream` goes through the worklet's
// port into a ring buffer that an AudioWorklet plays from (src/browser/stream-worklet.ts). The
// player waits before a write that would overflow the ring (so generation faster than real time is
// held back rather than dropped), and reports what has played, the underruns (playback starving
// because generation is slower than real time) and the real-time factor of the generation.
import workletSource from 'virtual:stream-worklet';
import {
  type FromProcessor,
  STREAM_PROCESSOR,
  type StreamProcessorOptions,
  type ToProcessor,
} from './stream-messages.js';

export interface StreamPlayerOptions {
  /**
   * The context to play in (create it, or resume it, in a user gesture: browsers keep audio
   * suspended until one). Default: a new AudioContext at the stream's rate, or at the browser's
   * rate where it refuses that one (the worklet then resamples); the player closes a context it made.
   */
  context?: AudioContext;
  /** Where to connect the player (default: the context's destination). */
  destination?: AudioNode;
  /** The stream's sample rate (default 16000, the model's). */
  sampleRate?: number;
  /** Audio buffered before playback starts, and again after an underrun (default 0.5 s). */
  prebufferSeconds?: number;
  /** The ring's size (default 30 s); pushes beyond it wait for playback to make room. */
  bufferSeconds?: number;
  /** Called on every report of the worklet (about every 50 ms while playing) and every push. */
  onState?: (stats: StreamPlayerStats) => void;
}

export interface StreamPlayerStats {
  sampleRate: number;
  /** The context's rate: different from `sampleRate` when the worklet resamples. */
  contextSampleRate: number;
  /** Audio pushed, played (silence of underruns not counted), and buffered now. */
  pushedSeconds: number;
  playedSeconds: number;
  bufferedSeconds: number;
  /** Times playback ran dry after it had started (one per gap, however long). */
  underruns: number;
  /** Silence played during underruns. */
  starvedSeconds: number;
  /** Playback has begun; everything pushed has played (after `end()`). */
  started: boolean;
  drained: boolean;
  /** Seconds of audio pushed per second of wall time from the player's creation to the last push. */
  realtimeFactor: number;
}

/** The worklet module, added once per context. */
const workletLoaded = new WeakMap<BaseAudioContext, Promise<void>>();

function loadWorklet(context: BaseAudioContext): Promise<void> {
  let loaded = workletLoaded.get(context);
  if (!loaded) {
    const url = URL.createObjectURL(new Blob([workletSource], { type: 'text/javascript' }));
    loaded = context.audioWorklet.addModule(url).finally(() => URL.revokeObjectURL(url));
    workletLoaded.set(context, loaded);
  }
  return loaded;
}

/** An AudioContext at `rate`, or at the browser's own rate where it refuses that one. */
function newContext(rate: number): AudioContext {
  try {
    return new AudioContext({ sampleRate: rate, latencyHint: 'playback' });
  } catch {
    return new AudioContext({ latencyHint: 'playback' });
  }
}

export class StreamPlayer {
  readonly context: AudioContext;
  readonly sampleRate: number;
  private readonly capacity: number;
  private readonly createdAt = performance.now();
  private lastPushAt = this.createdAt;
  private posted = 0;
  private ended = false;
  private closed = false;
  private state: FromProcessor | null = null;
  private waiters: (() => void)[] = [];
  private drainedWaiters: ((s: StreamPlayerStats) => void)[] = [];

  private constructor(
    private readonly node: AudioWorkletNode,
    private readonly ownsContext: boolean,
    sampleRate: number,
    capacity: number,
    private readonly onState?: (s: StreamPlayerStats) => void,
  ) {
    this.context = node.context as AudioContext;
    this.sampleRate = sampleRate;
    this.capacity = capacity;
    node.port.onmessage = (e: MessageEvent<FromProcessor>) => {
      this.state = e.data;
      this.wake();
      this.onState?.(this.stats());
      if (this.state.drained && this.ended) for (const w of this.drainedWaiters.splice(0)) w(this.stats());
    };
  }

  /** A player connected and ready for `push` (the worklet module is loaded first). */
  static async create(o: StreamPlayerOptions = {}): Promise<StreamPlayer> {
    const sampleRate = o.sampleRate ?? 16000;
    const context = o.context ?? newContext(sampleRate);
    const capacity = Math.round((o.bufferSeconds ?? 30) * sampleRate);
    const prebuffer = Math.min(capacity, Math.round((o.prebufferSeconds ?? 0.5) * sampleRate));
    if (!(capacity >= 128)) throw new Error(`StreamPlayer: bufferSeconds must hold at least 128 samples`);
    if (!(prebuffer >= 0)) throw new Error(`StreamPlayer: prebufferSeconds must be 0 or more`);
    try {
      await loadWorklet(context);
      const processorOptions: StreamProcessorOptions = { sourceRate: sampleRate, capacity, prebuffer };
      const node = new AudioWorkletNode(context, STREAM_PROCESSOR, {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        processorOptions,
      });
      node.connect(o.destination ?? context.destination);
      // Outside a user gesture this may stay pending until one; playback then starts with it.
      if (context.state === 'suspended') context.resume().catch(() => {});
      return new StreamPlayer(node, !o.context, sampleRate, capacity, o.onState);
    } catch (e) {
      if (!o.context) await context.close().catch(() => {});
      throw e;
    }
  }

  /**
   * Queues samples for playback (copied: the caller keeps its array). Resolves once they are all
   * handed to the worklet; it waits while the ring is full, which holds back a generator that runs
   * ahead of real time.
   */
  async push(samples: Float32Array): Promise<void> {
    if (this.ended) throw new Error('StreamPlayer: push after end()');
    let at = 0;
    while (at < samples.length) {
      if (this.closed) throw new Error('StreamPlayer: closed');
      // What the worklet has reported consumed lags behind, so this never overestimates the room.
      const room = this.capacity - (this.posted - (this.state?.consumed ?? 0));
      if (room <= 0) {
        await new Promise<void>((r) => this.waiters.push(r));
        continue;
      }
      const piece = samples.slice(at, at + room);
      // Counted before sending: transferring the buffer detaches it, and its length reads 0 after.
      const n = piece.length;
      this.send({ type: 'samples', samples: piece }, [piece.buffer]);
      this.posted += n;
      at += n;
    }
    this.lastPushAt = performance.now();
    this.onState?.(this.stats());
  }

  /** No more samples: what is buffered plays out (and running dry is no underrun). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.send({ type: 'end' });
  }

  /** Resolves when everything pushed has played, after `end()` (or at once, when closed). */
  done(): Promise<StreamPlayerStats> {
    if (this.closed || (this.ended && this.state?.drained)) return Promise.resolve(this.stats());
    return new Promise((r) => this.drainedWaiters.push(r));
  }

  stats(): StreamPlayerStats {
    const s = this.state;
    const rate = this.sampleRate;
    const pushedSeconds = this.posted / rate;
    const wall = (this.lastPushAt - this.createdAt) / 1000;
    return {
      sampleRate: rate,
      contextSampleRate: this.context.sampleRate,
      pushedSeconds,
      playedSeconds: (s?.consumed ?? 0) / rate,
      bufferedSeconds: (this.posted - (s?.consumed ?? 0)) / rate,
      underruns: s?.underruns ?? 0,
      starvedSeconds: (s?.starvedSamples ?? 0) / rate,
      started: s?.started ?? false,
      drained: this.ended && (s?.drained ?? false),
      realtimeFactor: wall > 0 ? pushedSeconds / wall : 0,
    };
  }

  /** Stops playback at once and disconnects; closes the context if the player made it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.send({ type: 'stop' });
    this.node.port.onmessage = null;
    this.node.disconnect();
    this.wake();
    for (const w of this.drainedWaiters.splice(0)) w(this.stats());
    if (this.ownsContext) await this.context.close().catch(() => {});
  }

  private send(message: ToProcessor, transfer: Transferable[] = []): void {
    this.node.port.postMessage(message, transfer);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export interface PlayStreamOptions extends StreamPlayerOptions {
  /** Which voice of a batch to play (default 0). */
  voice?: number;
  /** Called after each chunk is queued for playback. */
  onChunk?: (chunk: { start: number; end: number }, stats: StreamPlayerStats) => void;
}

/**
 * Plays `model.stream(...)` as it is generated, and resolves when the last sample has played, with
 * the voice's whole audio and the player's figures. An error or abort of the stream stops the sound.
 */
export async function playStream(
  stream: AsyncIterable<{ start: number; end: number; audio: Float32Array[] }>,
  o: PlayStreamOptions = {},
): Promise<{ audio: Float32Array; stats: StreamPlayerStats }> {
  const player = await StreamPlayer.create(o);
  const voice = o.voice ?? 0;
  const parts: Float32Array[] = [];
  try {
    for await (const chunk of stream) {
      const samples = chunk.audio[voice];
      if (!samples) throw new Error(`playStream: the stream has no voice ${voice}`);
      parts.push(samples);
      await player.push(samples);
      o.onChunk?.(chunk, player.stats());
    }
    player.end();
    const stats = await player.done();
    const audio = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      audio.set(p, at);
      at += p.length;
    }
    return { audio, stats };
  } finally {
    await player.close();
  }
}
