// The tfjs-wasm CPU peer: the step of tfjs-step.ts on @tensorflow/tfjs-backend-wasm 4.22
// (XNNPACK kernels, WebAssembly SIMD where the runtime validates it, threads where tfjs finds
// SharedArrayBuffer + workers usable; the detail line says which binary ran).
import type { Weights } from '../../model/weights.js';
import { missingPackage, type Peer } from './common.js';
import { type Tf, tfjsStepper } from './tfjs-step.js';

let ready: Promise<{ tf: Tf; flavour: string }> | null = null;

async function setUp(): Promise<{ tf: Tf; flavour: string }> {
  let tf: Tf;
  try {
    tf = await import('@tensorflow/tfjs-core');
  } catch (e) {
    throw missingPackage('tfjs-wasm', '@tensorflow/tfjs-core', e);
  }
  try {
    await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    throw missingPackage('tfjs-wasm', '@tensorflow/tfjs-backend-wasm', e);
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('peer tfjs-wasm: tfjs could not start its wasm backend');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return { tf, flavour: `${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'threads' : '1 thread'}` };
}

/** tfjs with its wasm backend, set up once per process and made the current backend; `flavour` says which binary. */
export async function tfjsWasm(): Promise<{ tf: Tf; flavour: string }> {
  ready ??= setUp().catch((e) => {
    ready = null;
    throw e;
  });
  const got = await ready;
  if (got.tf.getBackend() !== 'wasm' && !(await got.tf.setBackend('wasm')))
    throw new Error('peer tfjs-wasm: could not switch tfjs back to wasm');
  return got;
}

export async function tfjsWasmPeer(weights: Weights): Promise<Peer> {
  const { tf, flavour } = await tfjsWasm();
  const stepper = tfjsStepper(tf, weights, { rowBias: false });
  return {
    name: 'tfjs-wasm',
    detail: `tfjs-core + tfjs-backend-wasm 4.22 (${flavour})`,
    async run(r) {
      if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
      return stepper.run(r);
    },
    dispose() {
      stepper.dispose();
    },
  };
}
