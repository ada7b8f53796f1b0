// `nsynth generate`: an embedding (or a note, or a folder of notes, encoded first) -> audio sampled
// on the GPU, with a progress bar; Ctrl-C cancels cleanly. `--out -` streams raw 16-bit PCM to
// stdout as it is generated, for a player at the other end of a pipe.
import * as path from 'node:path';
import { Command } from 'commander';
import { prepareOutputFile, writeFilesAtomic } from '../../formats/atomic-write.js';
import { encodeWav } from '../../formats/wav.js';
import { encoderReach } from '../../model/config.js';
import type { HostTensor, LengthPolicy } from '../../model/inputs.js';
import type { NSynthModel } from '../../nsynth.js';
import {
  fitNoteLength,
  floatOption,
  framesForSeconds,
  listNotes,
  namesFolder,
  outputsInFolder,
  readNote,
  wavDepth,
} from '../audio.js';
import {
  conditioningPitch,
  examples,
  int,
  lengthOption,
  MAX_SECONDS,
  MAX_SEED,
  modelLabel,
  modelOption,
  num,
  openModel,
  readNpy,
  refuseHostMemory,
  withEngine,
} from '../options.js';
import { audioResultHead, notice, pitchNotice, printJson, progressBar, secondsSince, tuningNotes } from '../output.js';
import { type StreamReport, streamPcm } from '../stream-out.js';

export interface GenerateCliOptions {
  /** A note (16 kHz mono) to encode and resynthesise, its name for the notes on stderr, and its path (for its pitch). */
  audio?: Float32Array;
  audioName?: string;
  audioPath?: string;
  embedding?: HostTensor;
  out: string;
  seconds?: number;
  batch: number;
  seed: number;
  temperature: number;
  pitch?: number;
  quiet?: boolean;
  json?: boolean;
  /** 32-bit float WAVs instead of 16-bit PCM. */
  float?: boolean;
  lengthPolicy?: LengthPolicy;
}

/** Fits an embedding [F, 16] to `frames` (zero frames appended, or frames dropped). */
export function fitFrames(e: HostTensor, frames: number): HostTensor {
  const bn = e.shape[e.shape.length - 1];
  const data = new Float32Array(frames * bn);
  data.set(e.data.subarray(0, Math.min(e.data.length, frames * bn)));
  return { data, shape: [frames, bn] };
}

/** OUT.wav for one voice; OUT-0.wav ... OUT-(B-1).wav for a batch of B. */
export function voiceFiles(out: string, batch: number): string[] {
  if (batch === 1) return [out];
  const ext = path.extname(out) || '.wav';
  return Array.from({ length: batch }, (_, i) => path.join(path.dirname(out), `${path.basename(out, ext)}-${i}${ext}`));
}

/** Every voice is held as samples and as its WAV until all are written together: checked before the work. */
function refuseVoices(voices: number, frames: number, hop: number): void {
  refuseHostMemory(
    voices * frames * hop * 8,
    `${voices} voices of ${frames * hop} samples`,
    'use a smaller --batch or --seconds',
  );
}

/** --seconds as frames (with a note when it is not a whole number of them), refused if it would not fit. */
export function framesWanted(model: NSynthModel, o: { seconds?: number; batch: number }): number | undefined {
  const c = model.config;
  if (o.seconds === undefined) return undefined;
  if (!(o.seconds > 0)) throw new Error(`--seconds must be positive, got ${o.seconds}`);
  const frames = framesForSeconds(o.seconds, c.sampleRate, c.hop);
  refuseVoices(o.batch, frames, c.hop);
  return frames;
}

/** The embedding to generate from: the note encoded (or the one given), fitted to `frames` when given. */
export async function embeddingFor(model: NSynthModel, o: GenerateCliOptions, frames?: number): Promise<HostTensor> {
  const c = model.config;
  let emb: HostTensor;
  if (o.audio) {
    const policy = o.lengthPolicy ?? 'trim';
    fitNoteLength(o.audioName ?? 'the note', o.audio.length, c.hop, policy);
    // With a length asked for, only the audio those frames see is encoded (the encoder reaches
    // encoderReach samples either side): 0.5 s of a 4 s note encodes 0.7 s of it.
    const seen = frames === undefined ? o.audio.length : (frames + Math.ceil(encoderReach(c) / c.hop)) * c.hop;
    emb = await model.encode(seen < o.audio.length ? o.audio.subarray(0, seen) : o.audio, { lengthPolicy: policy });
  } else if (o.embedding) {
    if (o.embedding.shape.length !== 2)
      throw new Error(`--embedding must be [frames, ${c.bottleneck}], got [${o.embedding.shape}]`);
    emb = o.embedding;
  } else throw new Error('give --input note.wav or --embedding emb.npy');
  return frames === undefined ? emb : fitFrames(emb, frames);
}

/** Generates --batch voices of one note or embedding and writes them (all or none); returns the files. */
export async function runGenerate(
  model: NSynthModel,
  o: GenerateCliOptions,
): Promise<{ files: string[]; samples: number; pitch: { pitch: number; from: string } | undefined }> {
  const c = model.config;
  const pitch = notePitchOf(model, o);
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new Error(`--batch must be a positive integer, got ${o.batch}`);
  const emb = await embeddingFor(model, o, framesWanted(model, o));
  refuseVoices(o.batch, emb.shape[0], c.hop);
  // The outputs are checked (and their folder made) before generating, not after.
  const files = voiceFiles(o.out, o.batch);
  for (const f of files) prepareOutputFile(f);
  const samples = emb.shape[0] * c.hop;
  const audio = await generateVoices(model, Array(o.batch).fill(emb), samples, { ...o, pitch: pitch?.pitch });
  // Every voice's file, or none of them.
  writeFilesAtomic(files.map((file, i) => ({ file, data: encodeWav(audio[i], c.sampleRate, wavDepth(o)) })));
  return { files, samples, pitch };
}

/**
 * The pitch a pitch-conditioned model generates the note (or embedding) at (conditioningPitch:
 * --pitch, else what the note carries), said on stderr when it was not given.
 */
function notePitchOf(model: NSynthModel, o: GenerateCliOptions): { pitch: number; from: string } | undefined {
  const note = o.audio && { file: o.audioPath ?? o.audioName ?? 'the note', audio: o.audio };
  const p = conditioningPitch(model.config, o.pitch, note);
  pitchNotice(o.audioName ?? 'the note', p);
  return p;
}

/** Every note of a folder encoded and generated (--batch voices each), written to `outs` (outputsInFolder's). */
async function runGenerateFolder(
  model: NSynthModel,
  inputs: string[],
  outs: string[][],
  o: GenerateCliOptions,
): Promise<{ input: string; file: string; samples: number; pitch: number | null; pitchFrom: string | null }[]> {
  const c = model.config;
  const frames = framesWanted(model, o);
  const bar = progressBar('encoding |{bar}| {value}/{total} notes', o);
  bar?.start(inputs.length, 0);
  const embeddings: HostTensor[] = [];
  const pitches: ({ pitch: number; from: string } | undefined)[] = [];
  try {
    for (const input of inputs) {
      const note = { ...o, audio: await readNote(input), audioName: path.basename(input), audioPath: input };
      const pitch = conditioningPitch(c, o.pitch, { file: input, audio: note.audio });
      pitches.push(pitch);
      embeddings.push(await embeddingFor(model, note, frames));
      bar?.increment();
    }
  } finally {
    bar?.stop();
  }
  // Said after the bar, whose line a notice would break: where each note's pitch came from.
  for (const [i, p] of pitches.entries()) pitchNotice(path.basename(inputs[i]), p);
  const voices = embeddings.flatMap((e) => Array<HostTensor>(o.batch).fill(e));
  const longest = Math.max(...voices.map((v) => v.shape[0]));
  refuseVoices(voices.length, longest, c.hop);
  // One pitch per voice: each note's own (given, or read from the note as `reconstruct` reads it).
  const voicePitches = c.pitchConditioning
    ? pitches.flatMap((p) => Array<number>(o.batch).fill(p?.pitch as number))
    : undefined;
  const audio = await generateVoices(model, voices, longest * c.hop, { ...o, pitch: voicePitches });
  const written = outs.flat().map((file, i) => {
    const p = pitches[Math.floor(i / o.batch)];
    return {
      input: inputs[Math.floor(i / o.batch)],
      file,
      samples: audio[i].length,
      pitch: p?.pitch ?? null,
      pitchFrom: p?.from ?? null,
    };
  });
  writeFilesAtomic(written.map((w, i) => ({ file: w.file, data: encodeWav(audio[i], c.sampleRate, wavDepth(o)) })));
  return written;
}

/**
 * Generates every voice with a progress bar on stderr (where one is drawn: see progressBar); Ctrl-C
 * cancels within a few seconds (the CLI then exits 130 and writes nothing).
 */
export async function generateVoices(
  model: NSynthModel,
  voices: HostTensor[],
  samples: number,
  o: { seed: number; temperature: number; pitch?: number | number[]; quiet?: boolean; json?: boolean },
): Promise<Float32Array[]> {
  const bar = progressBar(
    'generating |{bar}| {percentage}% | {value}/{total} samples | {rate} samples/s per voice | ETA {eta_formatted}',
    o,
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
    return await model.generate(voices, {
      seed: o.seed,
      temperature: o.temperature,
      pitch: o.pitch,
      signal: ac.signal,
      onProgress: (p) => bar?.update(p.done, { rate: p.samplesPerSecond.toFixed(1) }),
      onTuning: tuningNotes(o),
    });
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
  }
}

/** The command's flags: the options above, with the model, the input and the embedding as paths. */
interface GenerateFlags extends Omit<GenerateCliOptions, 'embedding' | 'audio' | 'audioName'> {
  model?: string;
  input?: string;
  embedding?: string;
  lengthPolicy: LengthPolicy;
  prebuffer: number;
}

export function generateCommand(): Command {
  return new Command('generate')
    .description(
      'generate audio from an embedding (or from a note or a folder of notes, encoded first) on the GPU, or stream it (--out -)',
    )
    .addOption(modelOption())
    .option('--input <path>', 'a note to encode and resynthesise (any WAV: resampled to 16 kHz), or a folder of them')
    .option('--embedding <emb.npy>', 'embedding [frames, 16]')
    .requiredOption(
      '--out <out.wav>',
      'output WAV (16 kHz; with --batch B > 1, OUT-0.wav ... OUT-(B-1).wav); a folder for a folder of notes; ' +
        '- streams raw s16le 16 kHz mono PCM to stdout',
    )
    .option(
      '--seconds <s>',
      'length: the embedding is cut or zero-padded to this many seconds (whole frames of 512 samples)',
      num('--seconds', 0, MAX_SECONDS, true),
    )
    .option('--batch <n>', 'voices generated together (each with its own random stream)', int('--batch', 1, 4096), 1)
    .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 0)
    .option('--temperature <t>', 'softmax temperature (1 = Magenta, 0 = argmax)', num('--temperature', 0), 1)
    .option('--pitch <midi>', 'MIDI pitch, for pitch-conditioned configs', int('--pitch', 0, 127))
    .addOption(lengthOption())
    .addOption(floatOption())
    .option(
      '--prebuffer <s>',
      '--out -: seconds a real-time player buffers before it starts (for the underrun count)',
      num('--prebuffer', 0, MAX_SECONDS),
      0.5,
    )
    .option(
      '--json',
      'print JSON: the files written, samples, adapter, seconds (with --out -: on stderr, with underruns)',
    )
    .option('--quiet', 'no progress bar')
    .addHelpText(
      'after',
      examples(
        'nsynth generate --model weights/tiny-random --embedding emb.npy --batch 4 --seed 7 --out voices.wav',
        'nsynth generate --input note.wav --seconds 1 --out out.wav --float',
        'nsynth generate --input notes/ --out generated/',
        'nsynth generate --input note.wav --out - | aplay -f S16_LE -r 16000 -c 1',
      ),
    )
    .action(async (o: GenerateFlags, cmd: Command) => {
      if (o.input === undefined && o.embedding === undefined)
        throw new Error('give --input note.wav (or a folder of notes) or --embedding emb.npy');
      if (o.input !== undefined && o.embedding !== undefined) throw new Error('give --input or --embedding, not both');
      const notes = o.input === undefined ? null : listNotes(o.input);
      const toStdout = o.out === '-';
      if (toStdout) {
        if (process.stdout.isTTY)
          throw new Error(
            '--out - writes raw 16-bit PCM to standard output, which is a terminal here: pipe it into a player ' +
              '(... --out - | aplay -f S16_LE -r 16000 -c 1) or give --out FILE.wav',
          );
        if (o.batch !== 1) throw new Error(`--out - streams one voice: --batch must be 1, got ${o.batch}`);
        if (notes?.folder) throw new Error(`--out - streams one voice: --input ${o.input} is a folder`);
        if (o.float) throw new Error('--out - streams 16-bit PCM (s16le); --float is for WAV files');
      }
      const embedding = o.embedding ? readNpy(o.embedding) : undefined;
      // A folder's outputs are checked (and their folder made) before the GPU starts.
      // A folder of notes, or one note with --out DIR/ (or an existing folder): DIR/NOTE.wav, as encode and reconstruct.
      const intoFolder = !!notes && !toStdout && (notes.folder || namesFolder(o.out));
      const folderOuts = intoFolder && notes ? outputsInFolder(notes.files, o.out, '.wav', o.batch) : null;
      for (const f of folderOuts?.flat() ?? []) prepareOutputFile(f);
      // One note's or embedding's files too, before the GPU starts and the note is encoded.
      if (!toStdout && !folderOuts) for (const f of voiceFiles(o.out, o.batch)) prepareOutputFile(f);
      const audio = notes && !intoFolder ? await readNote(notes.files[0]) : undefined;
      const audioName = o.input && path.basename(o.input);
      await withEngine(cmd, async (engine) => {
        const model = await openModel(engine, o.model, o.seed);
        try {
          const t0 = performance.now();
          const common = audioResultHead(modelLabel(o.model), engine.adapter.name, o);
          const one = { ...o, audio, audioName, audioPath: o.input, embedding };
          if (toStdout) {
            const pitch = notePitchOf(model, one);
            const emb = await embeddingFor(model, one, framesWanted(model, o));
            reportStream(await streamPcm(model, emb, { ...o, pitch: pitch?.pitch }), common, o);
            return;
          }
          const files =
            notes && folderOuts
              ? await runGenerateFolder(model, notes.files, folderOuts, { ...o, embedding: undefined })
              : await runGenerate(model, one).then(({ files, samples, pitch }) =>
                  files.map((file) => ({
                    input: o.input,
                    file,
                    samples,
                    pitch: pitch?.pitch ?? null,
                    pitchFrom: pitch?.from ?? null,
                  })),
                );
          const s = secondsSince(t0);
          if (o.json) printJson({ ...common, files, seconds: s });
          else if (intoFolder)
            console.log(`wrote ${files.length} files to ${o.out} in ${s.toFixed(1)} s (${engine.adapter.name})`);
          else
            console.log(`wrote ${files.map((f) => f.file).join(', ')} in ${s.toFixed(1)} s (${engine.adapter.name})`);
        } finally {
          model.dispose();
        }
      });
    });
}

/** After --out -: what was streamed and how a real-time player would have fared, on stderr (stdout is the audio). */
function reportStream(r: StreamReport, common: { sampleRate: number }, o: { json?: boolean }): void {
  if (r.ended === 'interrupted') process.exitCode = 130;
  if (o.json) {
    printJson(
      {
        ...common,
        format: 's16le',
        files: [{ file: '-', samples: r.samples }],
        ended: r.ended,
        underruns: r.underruns,
        prebufferSeconds: r.prebufferSeconds,
        realtimeFactor: r.realtimeFactor,
        seconds: Math.round(r.seconds * 100) / 100,
      },
      process.stderr,
    );
    return;
  }
  const audio = `${r.samples} samples (${(r.samples / common.sampleRate).toFixed(2)} s of s16le ${common.sampleRate / 1000} kHz mono)`;
  const how = `${r.realtimeFactor.toFixed(2)}x real time, ${r.underruns} underrun${r.underruns === 1 ? '' : 's'} after a ${r.prebufferSeconds} s prebuffer`;
  if (r.ended === 'end') notice(`streamed ${audio} in ${r.seconds.toFixed(1)} s: ${how}`);
  else if (r.ended === 'closed') notice(`the reader closed the stream after ${audio}; stopped (${how})`);
  else notice(`interrupted after ${audio} (${how})`);
}
