// The `nsynth` command line. Each command is a thin layer over the library.
import { Command, Option } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine, type Engine } from '../gpu/engine.js';
import { getConfig, CONFIGS } from '../model/config.js';
import { initWeights, parameterCount } from '../model/weights.js';
import { writeWeightsDir, writeFileAtomic } from '../io/weights-node.js';
import { readWav16k } from '../io/wav.js';
import { decodeNpy, encodeNpy } from '../io/npy.js';
import { openModel } from './model-arg.js';
import type { LengthPolicy } from '../model/inputs.js';
import { runForwardBench } from '../../bench/forward.js';
import { runGenerateBench } from '../../bench/generate.js';
import { runTrainBench } from '../../bench/train.js';
import { runConvTilesBench } from '../../bench/conv-tiles.js';
import { runGenerate } from './generate.js';
import { runTrain, type TrainCliOptions } from './train.js';
import { runConvert, runInspect, type ConvertCliOptions } from './convert.js';
import { writeSyntheticDataset } from '../io/synthetic-notes.js';

function int(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got "${v}"`);
    return n;
  };
}

async function withEngine<T>(adapter: string | undefined, fn: (e: Engine) => Promise<T>): Promise<T> {
  const engine = await createEngine({ adapter });
  try {
    return await fn(engine);
  } finally {
    engine.destroy();
  }
}

function readNpy(file: string) {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeNpy(bytes, file);
}

function writeNpy(file: string, data: Float32Array, shape: number[]): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(file, encodeNpy(data, shape));
}

const lengthOption = () =>
  new Option('--length-policy <policy>', 'a length that is not a multiple of 512: trim (as Magenta), pad or strict').choices(['trim', 'pad', 'strict']).default('trim');

export function buildCli(): Command {
  const program = new Command();
  program
    .name('nsynth')
    .description('The NSynth WaveNet autoencoder on WebGPU (WGSL compute kernels)')
    .option('--adapter <name>', 'auto | hardware | lavapipe | swiftshader | path to a Vulkan ICD .json (default: $NSYNTH_ADAPTER or auto)')
    .showHelpAfterError();

  program
    .command('init')
    .description('write a randomly initialised model (Magenta\'s initialisation) to a weights folder')
    .requiredOption('--config <name>', `model config (${Object.keys(CONFIGS).join(', ')})`)
    .option('--seed <n>', 'random seed', int('--seed'), 0)
    .requiredOption('--out <dir>', 'output folder (manifest.json + weights.bin)')
    .option('--dtype <dtype>', 'stored precision: f32 or f16', 'f32')
    .action((o: { config: string; seed: number; out: string; dtype: string }) => {
      const config = getConfig(o.config);
      if (o.dtype !== 'f32' && o.dtype !== 'f16') throw new Error(`--dtype must be f32 or f16, got ${o.dtype}`);
      const w = initWeights(config, o.seed);
      writeWeightsDir(o.out, w, o.dtype, { createdBy: 'nsynth init', seed: o.seed });
      console.log(`wrote ${o.out}: config ${config.name}, ${parameterCount(config).toLocaleString('en-US')} parameters, seed ${o.seed}`);
    });

  program
    .command('encode')
    .description('encode a 16 kHz WAV into its embedding [frames, 16] (float32 .npy)')
    .argument('<in.wav>', '16 kHz audio')
    .requiredOption('--model <dir>', 'weights folder, or random:CONFIG')
    .requiredOption('--out <emb.npy>', 'output .npy')
    .addOption(lengthOption())
    .action(async (input: string, o: { model: string; out: string; lengthPolicy: LengthPolicy }) => {
      const audio = readWav16k(input);
      await withEngine(program.opts().adapter, async (engine) => {
        const model = await openModel(engine, o.model);
        const emb = await model.encode(audio, { lengthPolicy: o.lengthPolicy });
        writeNpy(o.out, emb.data, emb.shape);
        console.log(`wrote ${o.out}: embedding [${emb.shape}] (${engine.adapter.name})`);
        model.dispose();
      });
    });

  program
    .command('logits')
    .description('teacher-forced decoder logits [T, 256] of a 16 kHz WAV (float32 .npy)')
    .argument('<in.wav>', '16 kHz audio')
    .requiredOption('--model <dir>', 'weights folder, or random:CONFIG')
    .requiredOption('--out <logits.npy>', 'output .npy')
    .option('--embedding <emb.npy>', 'use this embedding [frames, 16] instead of encoding the audio')
    .option('--pitch <midi>', 'MIDI pitch, for pitch-conditioned configs', int('--pitch'))
    .addOption(lengthOption())
    .action(async (input: string, o: { model: string; out: string; embedding?: string; pitch?: number; lengthPolicy: LengthPolicy }) => {
      const audio = readWav16k(input);
      const emb = o.embedding ? readNpy(o.embedding) : null;
      await withEngine(program.opts().adapter, async (engine) => {
        const model = await openModel(engine, o.model);
        const logits = await model.teacherForcedLogits(audio, emb, { lengthPolicy: o.lengthPolicy, pitch: o.pitch });
        writeNpy(o.out, logits.data, logits.shape);
        console.log(`wrote ${o.out}: logits [${logits.shape}] (${engine.adapter.name})`);
        model.dispose();
      });
    });

  program
    .command('generate')
    .description('generate audio from an embedding (or from a note, encoded first) on the GPU')
    .requiredOption('--model <dir>', 'weights folder, or random:CONFIG')
    .option('--input <note.wav>', '16 kHz note to encode and resynthesise')
    .option('--embedding <emb.npy>', 'embedding [frames, 16]')
    .requiredOption('--out <out.wav>', 'output WAV (float32, 16 kHz); with --batch B > 1, OUT-0.wav ... OUT-(B-1).wav')
    .option('--seconds <s>', 'length: the embedding is cut or zero-padded to this many seconds', Number)
    .option('--batch <n>', 'voices generated together (each with its own random stream)', int('--batch'), 1)
    .option('--seed <n>', 'random seed', int('--seed'), 0)
    .option('--temperature <t>', 'softmax temperature (1 = Magenta, 0 = argmax)', Number, 1)
    .option('--pitch <midi>', 'MIDI pitch, for pitch-conditioned configs', int('--pitch'))
    .option('--quiet', 'no progress bar')
    .action(async (o: { model: string; input?: string; embedding?: string; out: string; seconds?: number; batch: number; seed: number; temperature: number; pitch?: number; quiet?: boolean }) => {
      if (!o.input && !o.embedding) throw new Error('give --input note.wav or --embedding emb.npy');
      const embedding = o.embedding ? readNpy(o.embedding) : undefined;
      await withEngine(program.opts().adapter, async (engine) => {
        const model = await openModel(engine, o.model, o.seed);
        const t0 = performance.now();
        const files = await runGenerate(engine, model, { ...o, embedding, quiet: o.quiet || !process.stderr.isTTY });
        const s = (performance.now() - t0) / 1000;
        console.log(`wrote ${files.join(', ')} in ${s.toFixed(1)} s (${engine.adapter.name})`);
        model.dispose();
      });
    });

  const num = (name: string) => (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${v}"`);
    return n;
  };
  program
    .command('train')
    .description('train (or fine-tune) the autoencoder: Adam, Magenta\'s schedule, EMA, crash-safe checkpoints')
    .requiredOption('--config <name>', `model config (${Object.keys(CONFIGS).join(', ')}) or a config .json`)
    .requiredOption('--data <path>', 'NSynth data: a folder with examples.json (+ audio/), or a .tfrecord file')
    .requiredOption('--steps <n>', 'total training steps (a resumed run stops at the same total)', int('--steps'))
    .option('--batch <n>', 'crops per step (Magenta: 32 over 32 GPUs)', int('--batch'), 1)
    .requiredOption('--out <dir>', 'run folder: checkpoints/, and weights/ + ema/ at the end')
    .option('--resume', 'continue from the newest checkpoint in --out')
    .option('--lr-scale <x>', 'multiply Magenta\'s learning rates', num('--lr-scale'), 1)
    .option('--seed <n>', 'seed of the initialisation and of the data order', int('--seed'), 0)
    .option('--crop <samples>', 'training crop length (Magenta: 6144)', int('--crop'), 6144)
    .option('--init <dir>', 'start from these weights (fine-tuning) instead of a fresh initialisation')
    .option('--schedule-length <n>', 'stretch Magenta\'s 200k-step schedule over n steps (e.g. your --steps)', int('--schedule-length'))
    .option('--clip <norm>', 'clip the gradient to this global L2 norm (0: off, as Magenta)', num('--clip'), 0)
    .option('--ema-decay <d>', 'moving-average decay of the weights (Magenta: 0.9999; 0: off)', num('--ema-decay'), 0.9999)
    .option('--checkpoint-every <n>', 'steps between checkpoints', int('--checkpoint-every'), 500)
    .option('--keep <n>', 'checkpoints kept', int('--keep'), 2)
    .option('--log-every <n>', 'steps per logged line', int('--log-every'), 10)
    .option('--eval-every <n>', 'steps between evaluations on held-out notes (default: --checkpoint-every)', int('--eval-every'))
    .option('--eval-batches <n>', 'held-out batches per evaluation', int('--eval-batches'), 4)
    .option('--eval-fraction <x>', 'fraction of instruments held out for evaluation', num('--eval-fraction'), 0.1)
    .option('--families <list>', 'keep only these instrument families (names or ids, comma-separated)')
    .option('--sources <list>', 'keep only these sources (acoustic, electronic, synthetic)')
    .option('--pitch-min <midi>', 'lowest MIDI pitch kept', int('--pitch-min'))
    .option('--pitch-max <midi>', 'highest MIDI pitch kept', int('--pitch-max'))
    .option('--velocities <list>', 'keep only these velocities (comma-separated)')
    .option('--json', 'one JSON line per logged step on stdout: step, loss, lr, samplesPerSecond, gradNorm, evalLoss')
    .option('--quiet', 'no progress bar or messages')
    .action(async (o: TrainCliOptions) => {
      await withEngine(program.opts().adapter, (engine) => runTrain(engine, o));
    });

  program
    .command('synth-data')
    .description('write synthetic NSynth-like notes in the release\'s JSON/WAV layout (data for tests and first models)')
    .requiredOption('--out <dir>', 'output folder (examples.json + audio/)')
    .option('--notes <n>', 'number of notes', int('--notes'), 100)
    .option('--seed <n>', 'random seed', int('--seed'), 0)
    .option('--seconds <s>', 'length of each note (NSynth: 4)', num('--seconds'), 4)
    .option('--pitch-min <midi>', 'lowest MIDI pitch', int('--pitch-min'), 36)
    .option('--pitch-max <midi>', 'highest MIDI pitch', int('--pitch-max'), 84)
    .action((o: { out: string; notes: number; seed: number; seconds: number; pitchMin: number; pitchMax: number }) => {
      const metas = writeSyntheticDataset(o.out, { notes: o.notes, seed: o.seed, samples: Math.round(o.seconds * 16000), pitchMin: o.pitchMin, pitchMax: o.pitchMax });
      console.log(`wrote ${metas.length} notes to ${o.out} (examples.json + audio/)`);
    });

  program
    .command('convert')
    .description('convert Magenta\'s TensorFlow checkpoint or a TensorFlow.js model into our weights (or our weights out to tfjs)')
    .argument('<input>', 'checkpoint prefix / .index / folder, tfjs model folder or model.json, or a weights folder')
    .requiredOption('--out <dir>', 'output folder (written atomically)')
    .option('--ema', 'take the ExponentialMovingAverage shadows instead of the raw variables')
    .option('--dtype <dtype>', 'stored precision: f32 or f16', 'f32')
    .option('--map <file>', 'JSON object mapping source tensor names (or "graph node:input") to ours')
    .option('--to <format>', 'output format: nsynth (our weights) or tfjs (weights manifest + shards)', 'nsynth')
    .option('--layers-per-stage <n>', 'dilation stage length, when it is not 10 (it is not stored in checkpoints)', int('--layers-per-stage'))
    .option('--quiet', 'no progress bar')
    .action(async (input: string, o: ConvertCliOptions) => {
      console.log(await runConvert(input, o));
    });

  program
    .command('inspect')
    .description('list every tensor of a TF checkpoint, tfjs model or weights folder (name, dtype, shape, bytes, CRC status)')
    .argument('<path>', 'checkpoint prefix / .index / folder, tfjs model folder or model.json, or a weights folder')
    .option('--json', 'print JSON')
    .action(async (p: string, o: { json?: boolean }) => {
      const failures = await runInspect(p, !!o.json);
      if (failures > 0) throw new Error(`${failures} tensor(s) fail their checksum`);
    });

  const bench = program.command('bench').description('benchmarks (see bench/)');
  bench
    .command('forward')
    .description('encoder and teacher-forced decoder throughput, with the adapter\'s own ceilings')
    .option('--config <names>', 'comma-separated configs', 'tiny,h512_bo16')
    .option('--seconds <s>', 'audio length per run', '1')
    .option('--batch <n>', 'notes per batch', int('--batch'), 1)
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { config: string; seconds: string; batch: number; json?: boolean }) => {
      await withEngine(program.opts().adapter, (engine) =>
        runForwardBench(engine, { configs: o.config.split(','), seconds: Number(o.seconds), batch: o.batch, json: !!o.json }),
      );
    });

  bench
    .command('generate')
    .description('fast generation speed per batch, against the naive generator in the same run')
    .option('--config <name>', 'model config', 'tiny')
    .option('--batch <list>', 'comma-separated batch sizes', '1,4,16')
    .option('--seconds <s>', 'audio generated per batch size', '0.25')
    .option('--naive-steps <n>', 'samples the naive generator makes (it is slow)', '8')
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { config: string; batch: string; seconds: string; naiveSteps: string; json?: boolean }) => {
      await withEngine(program.opts().adapter, (engine) =>
        runGenerateBench(engine, {
          config: o.config, batches: o.batch.split(',').map(Number), seconds: Number(o.seconds), naiveSteps: Number(o.naiveSteps), json: !!o.json,
        }),
      );
    });

  bench
    .command('train')
    .description('training samples/s (forward + backward + Adam) per config, against the forward pass alone')
    .option('--config <list>', 'comma-separated configs', 'tiny,h512_bo16')
    .option('--batch <n>', 'crops per step', '1')
    .option('--crop <samples>', 'crop length (Magenta: 6144)', '6144')
    .option('--steps <n>', 'timed steps per config (best reported)', '2')
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { config: string; batch: string; crop: string; steps: string; json?: boolean }) => {
      await withEngine(program.opts().adapter, (engine) =>
        runTrainBench(engine, { configs: o.config.split(','), batch: Number(o.batch), crop: Number(o.crop), steps: Number(o.steps), json: !!o.json }),
      );
    });

  bench
    .command('conv-tiles')
    .description('wide against narrow tiles of the three convolution kernels, per number of output columns')
    .option('--rows <n>', 'rows (batch x time)', '4096')
    .option('--reduction <n>', 'reduction length (taps x input channels)', '96')
    .option('--columns <list>', 'output columns to try', '16,32,64,128')
    .option('--json', 'print JSON instead of a table')
    .action(async (o: { rows: string; reduction: string; columns: string; json?: boolean }) => {
      await withEngine(program.opts().adapter, (engine) =>
        runConvTilesBench(engine, { rows: Number(o.rows), reduction: Number(o.reduction), columns: o.columns.split(',').map(Number), json: !!o.json }),
      );
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (e) {
    console.error(`nsynth: ${(e as Error).message}`);
    if (process.env.NSYNTH_DEBUG) console.error(e);
    return 1;
  }
}
