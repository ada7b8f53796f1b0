// The benchmark's peers (src/bench/peers) run the same model as our fast generator: fed the same
// classes (teacher forcing), every step's logits equal ours, on seeded random models with and
// without pitch conditioning, over 200 steps of 64-sample frames (the frame length is a config
// field; short frames make the per-frame conditioning change three times in a run short enough
// for tfjs-webgpu, which runs ~12 steps/s here, bound by its per-op cost); and a sampled run gives
// valid, varied classes. The tfjs peers also race the same graph in tfjs's other executor: the
// model exported as a GraphModel (decoder part) and run by tfjs-converter on the peer's backend.
//
// Tolerance: 1e-4 absolute on logits, the bound our own step kernels meet against the full-sequence
// decoder (test/ops/gen-step.test.ts). Both sides compute in f32 with different summation orders
// (our kernels by lanes and tiles, tfjs by its matmul programs, XNNPACK by SIMD blocks, the
// TypeScript peer by four partial sums) and different tanh/exp: with these random models the
// logits are O(1) and the worst difference measured was 1.4e-6..1.9e-6 (the test prints it),
// while one wrong tap, a misplaced frame or a missing bias moves them by 1e-2 or more.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tfjsFileHandler, writeTfjsGraphModel } from '../src/convert/tfjs-graph.js';
import { testEngine } from './helpers.js';
import { collect, note } from './generate-helpers.js';
import { modelFromWeights, type NSynthModel } from '../src/nsynth.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { conditioningInput, notePitches } from '../src/model/inputs.js';
import { muLawQuantizeArray } from '../src/ops/mu-law.js';
import { createPeer, PEER_NAMES, peerTeacherForcedLogits, type Peer } from '../src/bench/peers/index.js';
import type { Engine } from '../src/gpu/engine.js';
import { Rng } from '../src/util/rng.js';

const ATOL = 1e-4;
const STEPS = 200;
const SAMPLED_STEPS = 64;
const FRAMES = 4;
const HOP = 64;
const B = 2;

async function engineOrNull(): Promise<Engine | null> {
  try {
    return await testEngine();
  } catch {
    return null;
  }
}

interface Case {
  model: NSynthModel;
  emb: Float32Array[];
  pitch: number[] | undefined;
  condInput: Float32Array;
  teacher: Uint32Array[];
  ours: Float32Array[];
}

const cases = new Map<string, Promise<Case>>();

/** A seeded random model, its conditioning, teacher classes and OUR teacher-forced logits (computed once per config). */
function setUp(e: Engine, config: string): Promise<Case> {
  let p = cases.get(config);
  if (!p) {
    p = (async () => {
      const c = { ...getConfig(config), name: `${config}_hop${HOP}`, hop: HOP };
      const model = await modelFromWeights(e, initWeights(c, 17, { biasScale: 0.1 }));
      const rng = new Rng(5);
      const emb = Array.from({ length: B }, () =>
        Float32Array.from({ length: FRAMES * c.bottleneck }, () => rng.uniform(-1, 1)),
      );
      const pitch = c.pitchConditioning ? [60, 67] : undefined;
      const condInput = conditioningInput(c, emb, FRAMES, notePitches(c, pitch, B));
      const T = FRAMES * c.hop;
      const teacher = [note(1, T), note(2, T)].map((n) => muLawQuantizeArray(n).classes);
      const chunks = await collect(
        model.stream(
          emb.map((d) => ({ data: d, shape: [FRAMES, c.bottleneck] })),
          { teacher, recordLogits: true, firstChunkSize: T, chunkSize: T, pitch },
        ),
      );
      const ours = Array.from({ length: B }, (_, b) => chunks[0].logits![b].subarray(0, STEPS * 256));
      return { model, emb, pitch, condInput, teacher, ours };
    })();
    cases.set(config, p);
  }
  return p;
}

/**
 * The tfjs peers' other executor: the model exported as a GraphModel (nsynth convert --to tfjs-graph,
 * decoder part) run by tfjs-converter on the backend the peer just used, teacher-forced over the
 * whole sequence, so the peer's one-sample steps race the same graph run as whole-sequence ops.
 */
async function exportedDecoderLogits(k: Case): Promise<Float32Array> {
  const tf = await import('@tensorflow/tfjs-core');
  const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
  const c = k.model.config;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-peer-graph-'));
  await writeTfjsGraphModel(dir, k.model.weights, { part: 'decoder', writeFile: (f, d) => fs.writeFileSync(f, d) });
  const graph = await loadGraphModel(tfjsFileHandler(dir));
  // The peer's step turns CPU forwarding off; the graph's shape arithmetic needs tfjs's default.
  const forwarding = tf.getBackend() === 'webgpu' ? tf.env().getBool('WEBGPU_CPU_FORWARD') : null;
  if (forwarding !== null) tf.env().set('WEBGPU_CPU_FORWARD', true);
  const T = FRAMES * c.hop;
  const inputs: Record<string, import('@tensorflow/tfjs-core').Tensor> = {
    mu_law: tf.tensor2d(Int32Array.from(k.teacher.flatMap((t) => Array.from(t.subarray(0, T)))), [B, T], 'int32'),
    embedding: tf.tensor3d(Float32Array.from(k.emb.flatMap((e) => Array.from(e))), [B, FRAMES, c.bottleneck]),
  };
  if (k.pitch) inputs.pitch = tf.tensor1d(k.pitch, 'int32');
  const out = graph.execute(inputs, 'logits') as import('@tensorflow/tfjs-core').Tensor;
  const logits = (await out.data()) as Float32Array;
  tf.dispose([out, ...Object.values(inputs)]);
  graph.dispose();
  if (forwarding !== null) tf.env().set('WEBGPU_CPU_FORWARD', forwarding);
  fs.rmSync(dir, { recursive: true, force: true });
  return logits;
}

async function peerOrSkip(name: string, model: NSynthModel, skip: (why: string) => void): Promise<Peer> {
  try {
    return await createPeer(name, model);
  } catch (e) {
    skip(`peer ${name} unavailable here: ${(e as Error).message.split('\n')[0]}`);
    throw e;
  }
}

describe('benchmark peers run our model', () => {
  for (const config of ['tiny', 'tiny_pitch'])
    for (const name of PEER_NAMES)
      it(`${name}, ${config}: teacher-forced logits equal ours for ${STEPS} steps within ${ATOL}; sampling gives valid classes`, async (ctx) => {
        const e = await engineOrNull();
        if (!e) return ctx.skip('no WebGPU adapter: our generator (the reference) cannot run');
        const k = await setUp(e, config);
        const peer = await peerOrSkip(name, k.model, (why) => ctx.skip(why));
        try {
          const got = await peerTeacherForcedLogits(peer, k.model, {
            condInput: k.condInput,
            B,
            frames: FRAMES,
            teacher: k.teacher,
            steps: STEPS,
          });
          let worst = 0;
          let at = -1;
          for (let b = 0; b < B; b++)
            for (let i = 0; i < STEPS * 256; i++) {
              const d = Math.abs(got[b][i] - k.ours[b][i]);
              if (!(d <= worst)) {
                worst = d;
                at = b * STEPS + Math.floor(i / 256);
              }
            }
          console.log(`${name} ${config}: worst |logit difference| ${worst.toExponential(2)} (voice/step ${at})`);
          expect(worst, `worst logit difference at voice*${STEPS}+step ${at}`).toBeLessThanOrEqual(ATOL);
          if (name.startsWith('tfjs')) {
            // The same graph in tfjs's other executor (exported GraphModel) agrees with the peer's steps.
            const whole = await exportedDecoderLogits(k);
            const T = FRAMES * HOP;
            let graphWorst = 0;
            for (let b = 0; b < B; b++)
              for (let i = 0; i < STEPS * 256; i++)
                graphWorst = Math.max(graphWorst, Math.abs(got[b][i] - whole[b * T * 256 + i]) || 0);
            console.log(`${name} ${config}: exported GraphModel vs the peer's steps ${graphWorst.toExponential(2)}`);
            expect(graphWorst).toBeLessThanOrEqual(ATOL);
          }

          const sampled = await peer.run({ B, frames: FRAMES, condInput: k.condInput, steps: SAMPLED_STEPS, seed: 9 });
          for (const cls of sampled.classes) {
            expect(cls.length).toBe(SAMPLED_STEPS);
            expect(cls.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
            expect(new Set(cls).size, 'distinct classes').toBeGreaterThan(1);
          }
        } finally {
          peer.dispose();
        }
      });
});
