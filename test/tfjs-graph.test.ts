// The tfjs GraphModel export (`nsynth convert --to tfjs-graph`) run by TensorFlow.js's own executor:
// tf.loadGraphModel from @tensorflow/tfjs-converter, on tfjs-backend-cpu, reading the folder through
// tfjsFileHandler, against our engine on the same weights and real notes. Error measure: the largest
// |tfjs - ours| over the largest |ours| of the tensor (scaledError, as `nsynth bench tfjs-graph` measures).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { tfjsFileHandler, writeTfjsGraphModel } from '../src/convert/tfjs-graph.js';
import { convertToWeights } from '../src/convert/convert.js';
import { readWeightsDir, writeWeightsDir } from '../src/formats/weights-node.js';
import { readWav16k } from '../src/formats/wav.js';
import { floatsToHalf, fromHalf } from '../src/formats/half.js';
import { buildTfjsGraph, type TfjsGraphPart } from '../src/graph/tfjs-graph.js';
import { getConfig, type ModelConfig } from '../src/model/config.js';
import { initWeights, Weights } from '../src/model/weights.js';
import { modelFromWeights } from '../src/nsynth.js';
import { muLawQuantizeArray } from '../src/ops/mu-law.js';
import { nsynth, nsynthOk, runNode } from './cli-run.js';
import { bitsPerSample } from '../src/dsp/nll.js';
import { scaledError } from '../src/bench/tfjs-graph.js';
import { testEngine } from './helpers.js';

const ROOT = path.resolve(__dirname, '..');
const NSYNTH = path.resolve(ROOT, '../shared/data/nsynth');
const haveData = fs.existsSync(NSYNTH);
/** What "within 1e-4 relative" means here: max |a - b| <= 1e-4 * max |b|. */
const F32_BOUND = 1e-4;

type Loaded = Awaited<ReturnType<typeof import('@tensorflow/tfjs-converter')['loadGraphModel']>>;
let tf: typeof Tf;
let loadGraphModel: typeof import('@tensorflow/tfjs-converter')['loadGraphModel'];

beforeAll(async () => {
  tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  ({ loadGraphModel } = await import('@tensorflow/tfjs-converter'));
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-tfjs-graph-'));

async function exportPart(w: Weights, part: TfjsGraphPart, dtype: 'f32' | 'f16' = 'f32'): Promise<Loaded> {
  const dir = tmp();
  await writeTfjsGraphModel(dir, w, { part, dtype, writeFile: (f, d) => fs.writeFileSync(f, d) });
  return loadGraphModel(tfjsFileHandler(dir));
}

/** Runs a loaded GraphModel by signature keys; outputs as [shape, values]. */
function execute(
  model: Loaded,
  inputs: Record<string, Tf.Tensor>,
  outputs: string[],
): { shape: number[]; data: Float32Array }[] {
  const got = model.execute(inputs, outputs);
  const list = Array.isArray(got) ? got : [got];
  const out = list.map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
  tf.dispose([...list, ...Object.values(inputs)]);
  return out;
}

/** Notes for the comparison: real NSynth notes where the data is here, else two synthetic tones. */
function notes(T: number, from: number): Float32Array[] {
  if (haveData)
    return ['guitar_acoustic_010-060-127.wav', 'flute_synthetic_000-060-025.wav'].map((f) =>
      readWav16k(path.join(NSYNTH, f)).slice(from, from + T),
    );
  return [1, 2].map((k) => Float32Array.from({ length: T }, (_, t) => 0.5 * Math.sin((t * k) / 7) * Math.exp(-t / T)));
}

/**
 * Every part of `w`'s model exported, loaded by tf.loadGraphModel and run on `audio`, against our
 * engine: the encoder's embedding, the decoder's logits (given our embedding) and both outputs of
 * the autoencoder. Returns the errors.
 */
async function compareParts(w: Weights, audio: Float32Array[], parts: TfjsGraphPart[], dtype: 'f32' | 'f16' = 'f32') {
  const c = w.config;
  const B = audio.length;
  const T = audio[0].length;
  const pitch = [60, 64].slice(0, B);
  const engine = await testEngine();
  // Our engine runs the weights tfjs sees: f16-rounded where the export is f16.
  const ours = await modelFromWeights(engine, dtype === 'f16' ? roundedToHalf(w) : w);
  const emb = await ours.encode(audio);
  const logits = await ours.teacherForcedLogits(audio, emb, { pitch });
  ours.dispose();
  const pitchInput = (): Record<string, Tf.Tensor> =>
    c.pitchConditioning ? { pitch: tf.tensor1d(pitch, 'int32') } : {};
  const errors: Record<string, number> = {};
  for (const part of parts) {
    const model = await exportPart(w, part, dtype);
    if (part === 'encoder') {
      const [e] = execute(model, { audio: tf.tensor2d(concat(audio), [B, T]) }, ['embedding']);
      expect(e.shape).toEqual(emb.shape);
      errors.encoder = scaledError(e.data, emb.data);
    } else if (part === 'decoder') {
      const classes = Int32Array.from(muLawQuantizeArray(concat(audio)).classes);
      const [l] = execute(
        model,
        {
          mu_law: tf.tensor2d(classes, [B, T], 'int32'),
          embedding: tf.tensor3d(emb.data, emb.shape as [number, number, number]),
          ...pitchInput(),
        },
        ['logits'],
      );
      expect(l.shape).toEqual(logits.shape);
      errors.decoder = scaledError(l.data, logits.data);
    } else {
      const [l, e] = execute(model, { audio: tf.tensor2d(concat(audio), [B, T]), ...pitchInput() }, [
        'logits',
        'embedding',
      ]);
      expect(l.shape).toEqual(logits.shape);
      errors.autoencoderLogits = scaledError(l.data, logits.data);
      errors.autoencoderEmbedding = scaledError(e.data, emb.data);
    }
    model.dispose();
  }
  if (process.env.NSYNTH_SHOW_ERRORS) console.log(c.name, dtype, errors);
  return errors;
}

function concat(list: Float32Array[]): Float32Array {
  const out = new Float32Array(list.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of list) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function roundedToHalf(w: Weights): Weights {
  const r = new Weights(w.config);
  for (const [name, t] of w.tensors) r.set(name, t.shape, Float32Array.from(floatsToHalf(t.data), fromHalf));
  return r;
}

/** Random weights with biases that matter (initWeights' are zero), and a short frame for small tests. */
function randomWeights(base: string, hop: number, seed: number): Weights {
  const c: ModelConfig = { ...getConfig(base), hop };
  return initWeights(c, seed, { biasScale: 0.1 });
}

describe('tfjs GraphModel export, run by tf.loadGraphModel (tfjs-backend-cpu)', () => {
  it('tiny_pitch: encoder, decoder and autoencoder agree with our engine within 1e-4 (two notes, two pitches)', async () => {
    const w = randomWeights('tiny_pitch', 32, 5);
    const errors = await compareParts(w, notes(2048, 4000), ['encoder', 'decoder', 'autoencoder']);
    for (const [what, e] of Object.entries(errors)) expect(e, what).toBeLessThan(F32_BOUND);
  });

  it('a config without pitch (tiny) has no pitch input, and agrees too', async () => {
    const w = randomWeights('tiny', 64, 6);
    const graph = await buildTfjsGraph(w, 'autoencoder');
    expect(Object.keys(graph.inputs)).toEqual(['audio']);
    expect(Object.keys(graph.outputs)).toEqual(['logits', 'embedding']);
    const errors = await compareParts(w, notes(1024, 2000), ['autoencoder']);
    for (const [what, e] of Object.entries(errors)) expect(e, what).toBeLessThan(F32_BOUND);
  });

  it('h512_bo16-shaped random weights: every part within 1e-4 (a short frame, so the CPU backend is quick)', async () => {
    // Magenta's widths and depths exactly (61.8 M parameters); the frame is shortened to 32 samples,
    // which changes no weight, and one frame keeps tfjs's CPU convs to seconds.
    const w = randomWeights('h512_bo16', 32, 7);
    const errors = await compareParts(w, notes(32, 6000).slice(0, 1), ['autoencoder']);
    for (const [what, e] of Object.entries(errors)) expect(e, what).toBeLessThan(F32_BOUND);
  }, 120_000);

  it.skipIf(!haveData)(
    'the default model on real notes: every part within 1e-4; f16 export within 1e-4 of the f16-rounded weights',
    async () => {
      const w = readWeightsDir(path.join(ROOT, 'weights/default'));
      const audio = notes(2048, 2048);
      const errors = await compareParts(w, audio, ['encoder', 'decoder', 'autoencoder']);
      for (const [what, e] of Object.entries(errors)) expect(e, what).toBeLessThan(F32_BOUND);
      // The default weights are stored in f16, so an f16 export holds exactly them.
      const half = await compareParts(w, audio, ['decoder'], 'f16');
      expect(half.decoder).toBeLessThan(F32_BOUND);
    },
    120_000,
  );

  it('f16 export of f32 weights: within 1e-4 of our engine on the same f16-rounded weights, within 1e-2 of the f32 ones', async () => {
    const w = randomWeights('tiny_pitch', 32, 8);
    const audio = notes(1024, 3000);
    const rounded = await compareParts(w, audio, ['autoencoder'], 'f16');
    expect(rounded.autoencoderLogits).toBeLessThan(F32_BOUND);
    // Against the unrounded weights the difference is the rounding of the weights to 11 bits.
    const model = await exportPart(w, 'autoencoder', 'f16');
    const [l] = execute(
      model,
      { audio: tf.tensor2d(concat(audio), [2, 1024]), pitch: tf.tensor1d([60, 64], 'int32') },
      ['logits'],
    );
    const engine = await testEngine();
    const ours = await modelFromWeights(engine, w);
    const full = await ours.teacherForcedLogits(audio, null, { pitch: [60, 64] });
    ours.dispose();
    const e = scaledError(l.data, full.data);
    expect(e).toBeGreaterThan(F32_BOUND / 100); // the rounding is visible...
    expect(e).toBeLessThan(1e-2); // ...and small
  });
});

describe('the exported model.json', () => {
  it('documents inputs and outputs in its signature, records config and part, and uses only portable ops', async () => {
    const w = randomWeights('tiny_pitch', 32, 9);
    const dir = tmp();
    await writeTfjsGraphModel(dir, w, { part: 'decoder', writeFile: (f, d) => fs.writeFileSync(f, d) });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('graph-model');
    expect(json.signature.inputs.mu_law).toEqual({
      name: 'mu_law:0',
      dtype: 'DT_INT32',
      tensorShape: { dim: [{ size: '-1' }, { size: '-1' }] },
    });
    expect(Object.keys(json.signature.inputs)).toEqual(['mu_law', 'embedding', 'pitch']);
    expect(json.signature.outputs.logits.tensorShape.dim.map((d: { size: string }) => d.size)).toEqual([
      '-1',
      '-1',
      '256',
    ]);
    expect(json.userDefinedMetadata.nsynthConfig).toEqual(w.config);
    expect(json.userDefinedMetadata.nsynthPart).toBe('decoder');
    expect(json.userDefinedMetadata.nsynthInputs.pitch).toMatch(/MIDI/);
    const ops = new Set<string>(json.modelTopology.node.map((n: { op: string }) => n.op));
    // What every tfjs backend (cpu, wasm, webgl, webgpu) implements.
    const portable = [
      'Placeholder',
      'Const',
      'Conv2D',
      'BiasAdd',
      'Pad',
      'Relu',
      'AddV2',
      'Mul',
      'Sub',
      'Sigmoid',
      'Tanh',
      'Split',
      'Reshape',
      'Shape',
      'ExpandDims',
      'Squeeze',
      'StridedSlice',
      'Cast',
      'Equal',
      'ZerosLike',
      'Slice',
      'ConcatV2',
      // the audio input's mu-law quantisation (encoder and autoencoder parts)
      'Abs',
      'GreaterEqual',
      'Greater',
      'Sum',
      'Minimum',
      'Maximum',
      'Neg',
      'SelectV2',
      'AvgPool',
    ];
    const whole = await buildTfjsGraph(w, 'autoencoder');
    for (const n of whole.nodes) ops.add(n.op);
    expect([...ops].filter((op) => !portable.includes(op))).toEqual([]);
    // The export is a tree of portable ops; the wasm backend's OneHot returned zeros, so it is not used.
    expect(ops.has('OneHot')).toBe(false);
    // The decoder part holds the decoder's parameters only (res_L too, which nothing reads).
    const names = json.weightsManifest[0].weights.map((x: { name: string }) => x.name);
    expect(names).toContain(`res_${10}/W`);
    expect(names.some((n: string) => n.startsWith('ae_'))).toBe(false);
  });

  it('tfjsFileHandler names the file and the problem: no model.json, bad JSON, shards short, long or missing, a path leaving the folder, a broken manifest', async () => {
    const w = randomWeights('tiny', 32, 3);
    const dir = tmp();
    await writeTfjsGraphModel(dir, w, { part: 'encoder', writeFile: (f, d) => fs.writeFileSync(f, d) });
    const json = fs.readFileSync(path.join(dir, 'model.json'), 'utf8');
    await expect(loadGraphModel(tfjsFileHandler(tmp()))).rejects.toThrow(/no model\.json here/);
    fs.writeFileSync(path.join(dir, 'model.json'), json.slice(0, 100));
    await expect(loadGraphModel(tfjsFileHandler(dir))).rejects.toThrow(/model\.json: not a readable model\.json/);
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ format: 'graph-model' }));
    await expect(loadGraphModel(tfjsFileHandler(dir))).rejects.toThrow(
      /model\.json: not a TensorFlow\.js model\.json \(no modelTopology\)/,
    );
    const m = JSON.parse(json);
    m.weightsManifest[0].paths = ['../elsewhere.bin'];
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(m));
    await expect(loadGraphModel(tfjsFileHandler(dir))).rejects.toThrow(
      /model\.json: group 0 has a bad shard path "\.\.\/elsewhere\.bin"/,
    );
    fs.writeFileSync(path.join(dir, 'model.json'), json);
    // A shard cut short, or longer than the manifest says (which tfjs itself would load silently).
    const shard = path.join(dir, 'group1-shard1of1.bin');
    const bytes = fs.readFileSync(shard);
    fs.writeFileSync(shard, bytes.subarray(0, bytes.length - 100));
    await expect(loadGraphModel(tfjsFileHandler(dir))).rejects.toThrow(
      /model\.json: group 0's manifest needs \d+ bytes, its shards \(group1-shard1of1\.bin\) hold \d+: it points past the end/,
    );
    fs.writeFileSync(shard, Buffer.concat([bytes, Buffer.alloc(100)]));
    await expect(loadGraphModel(tfjsFileHandler(dir))).rejects.toThrow(
      /model\.json: group 0's manifest describes \d+ bytes, its shards .* hold \d+/,
    );
    fs.writeFileSync(shard, bytes);
    const changes: [(j: Record<string, unknown>) => void, RegExp][] = [
      [(j) => delete j.weightsManifest, /model\.json: no weightsManifest/],
      [(j) => (j.weightsManifest = [{ paths: ['group1-shard1of1.bin'] }]), /group 0 needs "paths" and "weights" lists/],
      [(j) => (j.modelTopology = {}), /model\.json: modelTopology\.node is not a list/],
    ];
    for (const [change, why] of changes) {
      const broken = JSON.parse(json);
      change(broken);
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(broken));
      await expect(loadGraphModel(tfjsFileHandler(dir))).rejects.toThrow(why);
    }
    fs.writeFileSync(path.join(dir, 'model.json'), json);
    expect(await loadGraphModel(tfjsFileHandler(dir))).toBeTruthy(); // restored, it loads
    fs.rmSync(path.join(dir, 'group1-shard1of1.bin'));
    await expect(loadGraphModel(tfjsFileHandler(dir))).rejects.toThrow(
      /group1-shard1of1\.bin: cannot read shard of .*model\.json \(ENOENT\)/,
    );
  });

  it('refuses a part it does not know', async () => {
    const w = randomWeights('tiny', 32, 1);
    await expect(buildTfjsGraph(w, 'middle' as TfjsGraphPart)).rejects.toThrow(
      /unknown part "middle" \(known: encoder, decoder, autoencoder\)/,
    );
  });
});

describe('examples/tfjs/logits.mjs', () => {
  it.skipIf(!haveData)(
    'prints the bits per sample our engine measures on the same note (tfjs wasm)',
    async () => {
      const dir = tmp();
      await nsynthOk([
        'convert',
        path.join(ROOT, 'weights/default'),
        '--to',
        'tfjs-graph',
        '--out',
        path.join(dir, 'g'),
      ]);
      const note = path.join(NSYNTH, 'guitar_acoustic_010-060-127.wav');
      const r = await runNode([path.join(ROOT, 'examples/tfjs/logits.mjs'), path.join(dir, 'g'), note, '60', '--wasm']);
      expect(r.status, r.stderr).toBe(0);
      const m = /embedding \[1,125,16\], logits \[1,64000,256\], (\d+\.\d+) bits per sample \(wasm\)/.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      const audio = readWav16k(note);
      const engine = await testEngine();
      const ours = await modelFromWeights(engine, readWeightsDir(path.join(ROOT, 'weights/default')));
      const logits = await ours.teacherForcedLogits(audio, null, { pitch: 60 });
      ours.dispose();
      const bits = bitsPerSample(logits.data, muLawQuantizeArray(audio).classes, 256);
      expect(Number(m![1])).toBeCloseTo(bits, 3);
    },
    120_000,
  );
});

describe('nsynth convert --to tfjs-graph, and back', () => {
  it('export then import is lossless: the same weights, checksum for checksum (f32 and f16)', async () => {
    const dir = tmp();
    const w = randomWeights('tiny_pitch', 512, 11);
    writeWeightsDir(path.join(dir, 'w32'), w, 'f32');
    writeWeightsDir(path.join(dir, 'w16'), w, 'f16');
    for (const dtype of ['f32', 'f16']) {
      const src = path.join(dir, `w${dtype.slice(1)}`);
      const out = await nsynthOk([
        'convert',
        src,
        '--to',
        'tfjs-graph',
        '--dtype',
        dtype,
        '--out',
        path.join(dir, `g${dtype}`),
      ]);
      expect(out).toMatch(
        /tfjs GraphModel of the autoencoder.*inputs audio float32 \[\?,\?\], pitch int32 \[\?\], outputs logits float32 \[\?,\?,256\], embedding float32 \[\?,\?,16\]/,
      );
      await nsynthOk([
        'convert',
        path.join(dir, `g${dtype}`),
        '--dtype',
        dtype,
        '--out',
        path.join(dir, `back${dtype}`),
      ]);
      const a = JSON.parse(fs.readFileSync(path.join(src, 'manifest.json'), 'utf8'));
      const b = JSON.parse(fs.readFileSync(path.join(dir, `back${dtype}`, 'manifest.json'), 'utf8'));
      expect(b.config).toEqual(a.config);
      expect(b.tensors.map((t: { name: string; crc32c: number }) => [t.name, t.crc32c])).toEqual(
        a.tensors.map((t: { name: string; crc32c: number }) => [t.name, t.crc32c]),
      );
    }
    // The library call reads the config the export recorded (a 2 x 5 stage pattern no checkpoint stores).
    const { weights } = await convertToWeights(path.join(dir, 'gf32'));
    expect(weights.config).toEqual(w.config);
  });

  it('a part export does not convert back, and bad flags are one clear line', async () => {
    const dir = tmp();
    writeWeightsDir(path.join(dir, 'w'), randomWeights('tiny', 512, 2));
    await nsynthOk([
      'convert',
      path.join(dir, 'w'),
      '--to',
      'tfjs-graph',
      '--part',
      'encoder',
      '--out',
      path.join(dir, 'enc'),
    ]);
    const back = await nsynth(['convert', path.join(dir, 'enc'), '--out', path.join(dir, 'x')]);
    expect(back.status).toBe(1);
    expect(back.stderr).toMatch(/holds only the encoder; convert a --part autoencoder export/);
    const part = await nsynth([
      'convert',
      path.join(dir, 'w'),
      '--to',
      'tfjs-graph',
      '--part',
      'middle',
      '--out',
      path.join(dir, 'y'),
    ]);
    expect(part.stderr).toMatch(/--part must be encoder, decoder, autoencoder, got middle/);
    const wrong = await nsynth(['convert', path.join(dir, 'w'), '--part', 'decoder', '--out', path.join(dir, 'z')]);
    expect(wrong.stderr).toMatch(/--part is for --to tfjs-graph/);
    expect(fs.existsSync(path.join(dir, 'y'))).toBe(false);
    // The spectrogram baseline is not a WaveNet: no graph of it is written.
    const baseline = await nsynth([
      'convert',
      path.join(ROOT, 'weights/baseline-small'),
      '--to',
      'tfjs-graph',
      '--out',
      path.join(dir, 'b'),
    ]);
    expect(baseline.status).toBe(1);
    expect(baseline.stderr).toMatch(
      /holds the spectrogram baseline \(config baseline_small\), not a WaveNet autoencoder/,
    );
    expect(fs.existsSync(path.join(dir, 'b'))).toBe(false);
  });
});
