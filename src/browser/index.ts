// The browser build: the same API, with every WGSL kernel bundled as a string (esbuild), plus what
// only a page needs: whether WebGPU is there (and what to enable where it is not), and live
// playback of generation through an AudioWorklet.
import kernels from 'virtual:kernels';
import { browserWebGpuHelp } from '../gpu/device.js';
import { createEngine as createEngineWith, type EngineOptions, type Engine } from '../gpu/engine.js';

export * from '../index.js';
export {
  StreamPlayer,
  playStream,
  type StreamPlayerOptions,
  type StreamPlayerStats,
  type PlayStreamOptions,
} from './stream-player.js';
export { SampleRing, type SampleRingOptions, type SampleRingState } from '../stream/sample-ring.js';
export { LinearResampler } from '../stream/linear-resampler.js';

/** createEngine for the browser: kernels come from the bundle instead of the file system. */
export function createEngine(options: EngineOptions = {}): Promise<Engine> {
  return createEngineWith({
    kernelSource: (name: string) => {
      const code = kernels[name];
      if (code === undefined) throw new Error(`No kernel named "${name}" in this bundle`);
      return code;
    },
    ...options,
  });
}

/** Names of the kernels in this bundle. */
export const kernelNames: string[] = Object.keys(kernels);

/**
 * Why this page cannot run the model, as advice for the visitor (what to enable or where to open
 * it), or null when WebGPU is there and gives an adapter.
 */
export function unsupportedReason(): Promise<string | null> {
  // Asked once a page: each adapter request is a round trip, and a browser without one logs a
  // warning for every request (isSupported and unsupportedReason together logged it twice).
  probed ??= probeWebGpu();
  return probed;
}

let probed: Promise<string | null> | null = null;

async function probeWebGpu(): Promise<string | null> {
  const gpu = (globalThis as unknown as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return browserWebGpuHelp('missing');
  try {
    if (await gpu.requestAdapter({ powerPreference: 'high-performance' })) return null;
  } catch {
    // An implementation that throws instead of returning null means the same.
  }
  return browserWebGpuHelp('no-adapter');
}

/** True where navigator.gpu exists and gives an adapter (createEngine can then run). */
export async function isSupported(): Promise<boolean> {
  return (await unsupportedReason()) === null;
}
