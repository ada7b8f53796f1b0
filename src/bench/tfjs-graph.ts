// `nsynth bench tfjs-graph`: the model exported as a tfjs GraphModel (nsynth convert --to tfjs-graph)
// and run by TensorFlow.js on each of its backends in this process (cpu; wasm; webgpu on a device of
// the engine's own adapter), against our engine's forward pass (encode, then teacher-forced logits) on
// the same weights and audio, in one run. Each executor's logits are compared with ours first, so the
// race is between the same graph in two executors, and every speed is a ratio to ours.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tfjsFileHandler, writeTfjsGraphModel } from '../convert/tfjs-graph.js';
import type { Engine } from '../gpu/engine.js';
import type { NSynthModel } from '../nsynth.js';
import { best } from './forward.js';
import { missingPackage } from './peers/common.js';
import type { Tf } from './peers/tfjs-step.js';
import { tfjsWasm } from './peers/tfjs-wasm.js';
import { tfjsOnEngineAdapter } from './peers/tfjs-webgpu.js';

export const TFJS_BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
/** Beyond this logits error an executor is not running the same model: the CLI exits 1. */
export const TFJS_GRAPH_TOLERANCE = 1e-3;
export type TfjsBackend = (typeof TFJS_BACKENDS)[number];

export interface TfjsGraphBenchOptions {
  model: NSynthModel;
  /** Audio per forward pass (rounded to whole frames). */
  seconds: number;
  backends: TfjsBackend[];
  json: boolean;
}

export interface TfjsGraphBenchRow {
  executor: string;
  detail: string;
  /** Audio samples through encoder and decoder per second (best of the timed runs). */
  samplesPerSecond: number;
  /** Our engine's speed over this executor's (1 for ours). */
  oursOverThis: number;
  /** max |logits - ours| / max |ours| (0 for ours). */
  logitsError: number;
}

export interface TfjsGraphBenchResult {
  adapter: string;
  config: string;
  samples: number;
  rows: TfjsGraphBenchRow[];
}

async function backend(name: TfjsBackend, engine: Engine): Promise<{ tf: Tf; detail: string }> {
  if (name === 'webgpu') {
    const { tf, adapter } = await tfjsOnEngineAdapter(engine);
    // tfjs's default, as a tfjs developer has it: the peers turn CPU forwarding off for their step, but
    // the graph's shape arithmetic (Shape -> Reshape) must stay on the host, readable synchronously.
    tf.env().set('WEBGPU_CPU_FORWARD', true);
    return { tf, detail: `tfjs-backend-webgpu 4.22 on ${adapter}` };
  }
  if (name === 'wasm') {
    const { tf, flavour } = await tfjsWasm();
    return { tf, detail: `tfjs-backend-wasm 4.22 (${flavour})` };
  }
  let tf: Tf;
  try {
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
  } catch (e) {
    throw missingPackage('tfjs-cpu', '@tensorflow/tfjs-backend-cpu', e);
  }
  tf.env().set('PROD', true); // no "install tfjs-node" banner on stdout
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs could not start its cpu backend');
  return { tf, detail: 'tfjs-backend-cpu 4.22 (plain JavaScript)' };
}

/**
 * How far another executor's tensor is from ours: max |a - b| over max |b| (elementwise ratios
 * explode where a value is near 0). NaN anywhere counts as infinitely far.
 */
export function scaledError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`scaledError: ${a.length} values against ${b.length}`);
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return Number.isNaN(d) ? Number.POSITIVE_INFINITY : d / s;
}

export async function runTfjsGraphBench(engine: Engine, o: TfjsGraphBenchOptions): Promise<TfjsGraphBenchResult> {
  const model = o.model;
  const c = model.config;
  const samples = Math.max(c.hop, Math.round((o.seconds * c.sampleRate) / c.hop) * c.hop);
  // A decaying two-partial tone: every mu-law class range is visited, and it is the same for all.
  const audio = Float32Array.from(
    { length: samples },
    (_, t) => Math.exp(-t / samples) * (0.5 * Math.sin(t / 6) + 0.2 * Math.sin(t / 2.7)),
  );
  const pitch = 60;
  const reps = engine.adapter.type === 'cpu' ? 2 : 5;
  const rows: TfjsGraphBenchRow[] = [];
  const forward = async () => model.teacherForcedLogits(audio, await model.encode(audio), { pitch });
  const ours = await forward();
  const oursS = await best(forward, reps);
  rows.push({
    executor: 'nsynth-webgpu',
    detail: `our engine on ${engine.adapter.name}`,
    samplesPerSecond: samples / oursS,
    oursOverThis: 1,
    logitsError: 0,
  });
  let loadGraphModel: typeof import('@tensorflow/tfjs-converter').loadGraphModel;
  try {
    ({ loadGraphModel } = await import('@tensorflow/tfjs-converter'));
  } catch (e) {
    throw missingPackage('tfjs-graph', '@tensorflow/tfjs-converter', e);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-tfjs-graph-'));
  try {
    await writeTfjsGraphModel(dir, model.weights, {
      part: 'autoencoder',
      writeFile: (f, d) => fs.writeFileSync(f, d),
    });
    for (const name of o.backends) {
      const { tf, detail } = await backend(name, engine);
      const graph = await loadGraphModel(tfjsFileHandler(dir));
      const run = async () => {
        const inputs: Record<string, import('@tensorflow/tfjs-core').Tensor> = {
          audio: tf.tensor2d(audio, [1, samples]),
        };
        if (c.pitchConditioning) inputs.pitch = tf.tensor1d([pitch], 'int32');
        const out = graph.execute(inputs, ['logits', 'embedding']) as import('@tensorflow/tfjs-core').Tensor[];
        const logits = (await out[0].data()) as Float32Array;
        tf.dispose([...out, ...Object.values(inputs)]);
        return logits;
      };
      const logitsError = scaledError(await run(), ours.data);
      const s = await best(run, reps);
      graph.dispose();
      rows.push({
        executor: `tfjs ${name}`,
        detail,
        samplesPerSecond: samples / s,
        oursOverThis: s / oursS,
        logitsError,
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const result = { adapter: engine.adapter.name, config: c.name, samples, rows };
  if (!o.json) {
    console.log(
      `forward pass (encode + teacher-forced logits) of ${c.name}, ${samples} samples, batch 1, on ${result.adapter}`,
    );
    console.log('executor          samples/s   ours / this   logits error   detail');
    for (const r of rows)
      console.log(
        `${r.executor.padEnd(16)} ${r.samplesPerSecond.toFixed(0).padStart(10)} ${r.oursOverThis.toFixed(2).padStart(12)}x ` +
          `${r.logitsError.toExponential(1).padStart(13)}${r.logitsError > TFJS_GRAPH_TOLERANCE ? ' DISAGREES' : ''}   ${r.detail}`,
      );
  }
  return result;
}
