// The tfjs-webgpu peer: the step of tfjs-step.ts on @tensorflow/tfjs-backend-webgpu 4.22, on the
// same Dawn adapter as our engine, with a GPUDevice of its own (as a page running tfjs beside our
// library would have).
//
// Where it gets the device: tfjs registers its 'webgpu' backend on import only where
// navigator.gpu exists, and Node 20 has no navigator. `navigator.gpu = create([...])` from the
// `webgpu` package would make a second Dawn instance in the process, which device.ts warns
// against on lavapipe; so the peer asks device.ts for another device of the SAME instance and
// adapter, checks the adapter is the engine's, and registers tfjs's own WebGPUBackend class on
// that device under the name 'webgpu' (what tfjs's factory does after requestDevice).
import { acquireDevice } from '../../gpu/device.js';
import type { Engine } from '../../gpu/engine.js';
import type { Weights } from '../../model/weights.js';
import { missingPackage, type Peer } from './common.js';
import { type Tf, tfjsStepper } from './tfjs-step.js';

/**
 * tfjs's WEBGPU_MATMUL_PROGRAM_TYPE: 0 reduce, 1 split-K, 2 small-output, 3 packed (32x32 tiles),
 * -1 its own choice by shape (packed for every product of this step). Measured on lavapipe
 * (2-core VM, loaded), h512_bo16, 6 timed steps, samples/s per voice: batch 1: tfjs's choice 0.27,
 * reduce 0.28, small-output 0.18, split-K 0.18; batch 16: tfjs's choice 0.18, reduce fails (one
 * workgroup per output passes the dispatch limit on the conditioning product). Reduce is no faster
 * within the noise, so the peer keeps tfjs's own choice.
 */
const DEFAULT_MATMUL_PROGRAM = -1;

let ready: Promise<{ tf: Tf; adapter: string }> | null = null;

async function setUp(engine: Engine): Promise<{ tf: Tf; adapter: string }> {
  let tf: Tf;
  let backend: typeof import('@tensorflow/tfjs-backend-webgpu');
  try {
    tf = await import('@tensorflow/tfjs-core');
  } catch (e) {
    throw missingPackage('tfjs-webgpu', '@tensorflow/tfjs-core', e);
  }
  try {
    backend = await import('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    throw missingPackage('tfjs-webgpu', '@tensorflow/tfjs-backend-webgpu', e);
  }
  // The engine chose the Vulkan driver (VK_ICD_FILENAMES) before it made the process's Dawn
  // instance; 'auto' keeps that choice and so returns a device of the same instance.
  const got = await acquireDevice({ adapter: 'auto', features: [] });
  const ours = engine.adapter;
  const theirs = got.adapterInfo;
  if (theirs.vendor !== ours.vendor || theirs.device !== ours.device || theirs.description !== ours.description) {
    got.device.destroy();
    got.release();
    throw new Error(`peer tfjs-webgpu: tfjs would run on ${theirs.name}, not on the engine's ${ours.name}`);
  }
  // (otherwise the device stays tfjs's backend's for the process: tfjs registers a backend once)
  const info = { vendor: theirs.vendor, architecture: theirs.architecture } as GPUAdapterInfo;
  // The backend's constructor asks only that navigator.gpu exist (set after the import above, so
  // tfjs's own factory, which would request an adapter there, is never registered).
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    const gpu = {
      requestAdapter: () => Promise.reject(new Error('nsynth peers: use the engine-shared device')),
      getPreferredCanvasFormat: () => 'rgba8unorm',
      wgslLanguageFeatures: new Set<string>(),
    };
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else g.navigator = { gpu };
  }
  if (!tf.findBackendFactory('webgpu'))
    tf.registerBackend('webgpu', () => new backend.WebGPUBackend(got.device, info), 3);
  // Everything on the adapter: no hand-off of small CPU-resident tensors to the CPU backend.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (!(await tf.setBackend('webgpu'))) throw new Error('peer tfjs-webgpu: tfjs could not start its webgpu backend');
  await tf.ready();
  return { tf, adapter: ours.name };
}

export interface TfjsWebgpuOptions {
  /** Force one WEBGPU_MATMUL_PROGRAM_TYPE (for measuring); default tfjs's own choice. */
  matmulProgram?: number;
}

/**
 * tfjs with its webgpu backend on a device of the engine's adapter, set up once per process and made
 * the current backend (the exported-GraphModel benchmark runs tfjs there too).
 */
export async function tfjsOnEngineAdapter(engine: Engine): Promise<{ tf: Tf; adapter: string }> {
  ready ??= setUp(engine).catch((e) => {
    ready = null;
    throw e;
  });
  const got = await ready;
  if (got.tf.getBackend() !== 'webgpu' && !(await got.tf.setBackend('webgpu')))
    throw new Error('peer tfjs-webgpu: could not switch tfjs back to webgpu');
  return got;
}

export async function tfjsWebgpuPeer(engine: Engine, weights: Weights, o: TfjsWebgpuOptions = {}): Promise<Peer> {
  const { tf, adapter } = await tfjsOnEngineAdapter(engine);
  const stepper = tfjsStepper(tf, weights, { rowBias: true });
  const program = o.matmulProgram ?? DEFAULT_MATMUL_PROGRAM;
  const names: Record<string, string> = {
    '-1': 'tfjs default',
    0: 'reduce',
    1: 'split-K',
    2: 'small-output',
    3: 'packed',
  };
  return {
    name: 'tfjs-webgpu',
    get detail() {
      return `tfjs-core + tfjs-backend-webgpu 4.22 on ${adapter}`;
    },
    async run(r) {
      if (tf.getBackend() !== 'webgpu') await tf.setBackend('webgpu');
      tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', program);
      const out = await stepper.run(r);
      return { ...out, note: `matmul ${names[program] ?? program}` };
    },
    dispose() {
      // (a tensor is freed by the backend that holds it, whichever is current)
      stepper.dispose();
    },
  };
}
