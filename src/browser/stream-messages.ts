// The messages between StreamPlayer (main thread) and its AudioWorklet processor.
import type { SampleRingState } from '../stream/sample-ring.js';

/** The processor's name in registerProcessor / new AudioWorkletNode. */
export const STREAM_PROCESSOR = 'nsynth-stream-player';

export interface StreamProcessorOptions {
  /** The stream's sample rate (the context's may differ: the processor then resamples). */
  sourceRate: number;
  /** Ring capacity and prebuffer, in source samples. */
  capacity: number;
  prebuffer: number;
}

export type ToProcessor =
  /** Samples to append (the buffer is transferred). */
  | { type: 'samples'; samples: Float32Array }
  /** No more samples: play out what is buffered. */
  | { type: 'end' }
  /** Stop processing for good (the node is being disconnected). */
  | { type: 'stop' };

/** The ring's counters, posted every few render quanta and whenever playback starts, starves or drains. */
export interface FromProcessor extends SampleRingState {
  type: 'state';
  /** The context's clock (seconds) when the state was taken. */
  contextTime: number;
}
