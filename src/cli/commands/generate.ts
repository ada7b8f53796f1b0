// `nsynth generate`: an embedding (or a WAV, encoded first) -> audio sampled on the GPU, with a progress
// bar; Ctrl-C cancels cleanly.
import * as path from 'node:path';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import type { NSynthModel } from '../../nsynth.js';
import type { HostTensor } from '../../model/inputs.js';
import { encodeWav, readWav16k } from '../../formats/wav.js';
import { prepareOutputFile, writeFilesAtomic } from '../../formats/atomic-write.js';
import {
  int,
  MAX_SECONDS,
  MAX_SEED,
  modelOption,
  num,
  openModel,
  readNpy,
  refusePitchWithout,
  refuseHostMemory,
  withEngine,
} from '../options.js';

export interface GenerateCliOptions {
  input?: string;
  embedding?: HostTensor;
  out: string;
  seconds?: number;
  batch: number;
  seed: number;
  temperature: number;
  pitch?: number;
  quiet?: boolean;
}

/** Fits an embedding [F, 16] to `seconds` (zero frames appended, or frames dropped). */
export function fitFrames(e: HostTensor, frames: number): HostTensor {
  const bn = e.shape[e.shape.length - 1];
  const data = new Float32Array(frames * bn);
  data.set(e.data.subarray(0, Math.min(e.data.length, frames * bn)));
  return { data, shape: [frames, bn] };
}

export async function runGenerate(model: NSynthModel, o: GenerateCliOptions): Promise<string[]> {
  const c = model.config;
  refusePitchWithout(c, o.pitch);
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new Error(`--batch must be a positive integer, got ${o.batch}`);
  if (o.seconds !== undefined && !(o.seconds > 0)) throw new Error(`--seconds must be positive, got ${o.seconds}`);
  const wanted = o.seconds === undefined ? undefined : Math.max(1, Math.round((o.seconds * c.sampleRate) / c.hop));
  // Every voice is held as samples and as its WAV until all are written together: checked before any work.
  const refuseSize = (frames: number) =>
    refuseHostMemory(
      o.batch * frames * c.hop * 8,
      `${o.batch} voices of ${frames * c.hop} samples`,
      'use a smaller --batch or --seconds',
    );
  if (wanted !== undefined) refuseSize(wanted);
  let emb: HostTensor;
  if (o.input) emb = await model.encode(readWav16k(o.input));
  else if (o.embedding) {
    if (o.embedding.shape.length !== 2)
      throw new Error(`--embedding must be [frames, ${c.bottleneck}], got [${o.embedding.shape}]`);
    emb = o.embedding;
  } else throw new Error('give --input note.wav or --embedding emb.npy');
  if (wanted !== undefined) emb = fitFrames(emb, wanted);
  refuseSize(emb.shape[0]);
  // The outputs are checked (and their folder made) before generating, not after.
  const files =
    o.batch === 1
      ? [o.out]
      : Array.from({ length: o.batch }, (_, i) => {
          const ext = path.extname(o.out) || '.wav';
          return path.join(path.dirname(o.out), `${path.basename(o.out, ext)}-${i}${ext}`);
        });
  const frames = emb.shape[0];
  const total = frames * c.hop;
  for (const f of files) prepareOutputFile(f);
  const voices = Array.from({ length: o.batch }, () => emb);
  const audio = await generateVoices(model, voices, total, o);
  // Every voice's file, or none of them.
  writeFilesAtomic(files.map((file, i) => ({ file, data: encodeWav(audio[i], c.sampleRate) })));
  return files;
}

/**
 * Generates every voice with a progress bar on stderr (unless `quiet`); Ctrl-C cancels within a
 * few seconds (the CLI then exits 130 and writes nothing).
 */
export async function generateVoices(
  model: NSynthModel,
  voices: HostTensor[],
  samples: number,
  o: { seed: number; temperature: number; pitch?: number | number[]; quiet?: boolean },
): Promise<Float32Array[]> {
  const bar = o.quiet
    ? null
    : new cliProgress.SingleBar(
        {
          format:
            'generating |{bar}| {percentage}% | {value}/{total} samples | {rate} samples/s per voice | ETA {eta_formatted}',
          hideCursor: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
  bar?.start(samples, 0, { rate: '-' });
  const ac = new AbortController();
  const onSigint = () => {
    bar?.stop();
    console.error('nsynth: cancelling (stops within a few seconds)');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    return (await model.generate(voices, {
      seed: o.seed,
      temperature: o.temperature,
      pitch: o.pitch,
      signal: ac.signal,
      onProgress: (p) => bar?.update(p.done, { rate: p.samplesPerSecond.toFixed(1) }),
    })) as Float32Array[];
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
  }
}

export function generateCommand(): Command {
  return new Command('generate')
    .description('generate audio from an embedding (or from a note, encoded first) on the GPU')
    .addOption(modelOption())
    .option('--input <note.wav>', '16 kHz note to encode and resynthesise')
    .option('--embedding <emb.npy>', 'embedding [frames, 16]')
    .requiredOption('--out <out.wav>', 'output WAV (float32, 16 kHz); with --batch B > 1, OUT-0.wav ... OUT-(B-1).wav')
    .option(
      '--seconds <s>',
      'length: the embedding is cut or zero-padded to this many seconds',
      num('--seconds', 0, MAX_SECONDS, true),
    )
    .option('--batch <n>', 'voices generated together (each with its own random stream)', int('--batch', 1, 4096), 1)
    .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 0)
    .option('--temperature <t>', 'softmax temperature (1 = Magenta, 0 = argmax)', Number, 1)
    .option('--pitch <midi>', 'MIDI pitch, for pitch-conditioned configs', int('--pitch', 0, 127))
    .option('--quiet', 'no progress bar')
    .action(async (o: GenerateFlags, cmd: Command) => {
      if (!o.input && !o.embedding) throw new Error('give --input note.wav or --embedding emb.npy');
      const embedding = o.embedding ? readNpy(o.embedding) : undefined;
      await withEngine(cmd, async (engine) => {
        const model = await openModel(engine, o.model, o.seed);
        const t0 = performance.now();
        const files = await runGenerate(model, { ...o, embedding, quiet: o.quiet || !process.stderr.isTTY });
        const s = (performance.now() - t0) / 1000;
        console.log(`wrote ${files.join(', ')} in ${s.toFixed(1)} s (${engine.adapter.name})`);
        model.dispose();
      });
    });
}

/** The command's flags: the options above, with the model and the embedding as paths. */
type GenerateFlags = Omit<GenerateCliOptions, 'embedding'> & { model?: string; embedding?: string };
