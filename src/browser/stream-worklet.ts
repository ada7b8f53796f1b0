// The AudioWorklet processor of StreamPlayer: chunks arrive through its port and go into a
// SampleRing; every render quantum takes the next samples out (resampled when the context does
// not run at the stream's rate). It posts the ring's counters back, so the page can show what has
// played and count underruns. tools/build-browser.js bundles this file on its own into a string
// (`virtual:stream-worklet`) that the player loads from a Blob URL: a worklet module cannot import
// from the page's bundle.
import { LinearResampler } from '../stream/linear-resampler.js';
import { SampleRing } from '../stream/sample-ring.js';
import {
  type FromProcessor,
  STREAM_PROCESSOR,
  type StreamProcessorOptions,
  type ToProcessor,
} from './stream-messages.js';

// The AudioWorkletGlobalScope, which TypeScript's DOM library does not describe.
declare const sampleRate: number;
declare const currentTime: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: { processorOptions?: unknown });
}
declare function registerProcessor(
  name: string,
  processor: new (options: { processorOptions: unknown }) => unknown,
): void;

/** About 50 ms between routine reports: often enough for a progress display, rare enough to cost nothing. */
const REPORT_SECONDS = 0.05;

class StreamProcessor extends AudioWorkletProcessor {
  private readonly ring: SampleRing;
  private readonly resampler: LinearResampler | null;
  private readonly reportEvery: number;
  private sinceReport = 0;
  private stopped = false;
  private last = { started: false, underruns: 0, drained: false };

  constructor(options: { processorOptions: unknown }) {
    super(options);
    const o = options.processorOptions as StreamProcessorOptions;
    this.ring = new SampleRing(o.capacity, { prebuffer: o.prebuffer });
    this.resampler = o.sourceRate === sampleRate ? null : new LinearResampler(o.sourceRate, sampleRate);
    this.reportEvery = Math.max(1, Math.round((REPORT_SECONDS * sampleRate) / 128));
    this.port.onmessage = (e: MessageEvent<ToProcessor>) => {
      const m = e.data;
      if (m.type === 'samples') {
        // The player keeps its writes within the capacity it knows of (written - consumed as last
        // reported, which only overestimates what is buffered), so this refusal should never happen;
        // it is counted in `overflows` if it does.
        this.ring.write(m.samples);
      } else if (m.type === 'end') this.ring.end();
      else this.stopped = true;
      this.report();
    };
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    if (this.stopped) return false;
    const channels = outputs[0];
    const out = channels[0];
    if (this.resampler) this.resampler.render(out, (into) => this.ring.read(into));
    else this.ring.read(out);
    for (let c = 1; c < channels.length; c++) channels[c].set(out);
    const s = this.ring.state();
    const changed =
      s.started !== this.last.started || s.underruns !== this.last.underruns || s.drained !== this.last.drained;
    if (changed || ++this.sinceReport >= this.reportEvery) this.report();
    return true;
  }

  private report(): void {
    const s = this.ring.state();
    this.last = { started: s.started, underruns: s.underruns, drained: s.drained };
    this.sinceReport = 0;
    const message: FromProcessor = { type: 'state', contextTime: currentTime, ...s };
    this.port.postMessage(message);
  }
}

registerProcessor(STREAM_PROCESSOR, StreamProcessor);
