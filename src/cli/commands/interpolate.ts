// `nsynth interpolate A.wav B.wav --mix 0.5 --out OUT.wav`: NSynth's timbre morph. Both notes are
// encoded, their embeddings mixed frame by frame and the mix generated; the plain waveform mix is
// written beside it for comparison. `--mix 0,0.25,0.5,0.75,1` renders a sweep in one batch.
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { BaselineModel } from '../../autoencoder/baseline.js';
import { baselineSubject } from '../../eval/experiments.js';
import { prepareOutputFile, writeFilesAtomic } from '../../formats/atomic-write.js';
import { encodeWav, type WavDepth } from '../../formats/wav.js';
import { interpolateEmbeddings, mixWaveforms } from '../../model/interpolate.js';
import { fitNoteLength, floatOption, readNote, wavDepth } from '../audio.js';
import {
  examples,
  int,
  MAX_SEED,
  modelLabel,
  modelOption,
  num,
  openBaseline,
  openModel,
  refuseHostMemory,
  refusePitchWithout,
  withEngine,
} from '../options.js';
import { audioResultHead, printJson, progressBar, secondsSince } from '../output.js';
import { generateVoices } from './generate.js';
import { notePitch } from '../../dataset/note-pitch.js';

interface InterpolateFlags {
  model?: string;
  out: string;
  mix: number[];
  pitch?: number;
  seed: number;
  temperature: number;
  quiet?: boolean;
  json?: boolean;
  float?: boolean;
  griffinLim: number;
}

/** `0.5` or `0,0.25,0.5`: mixes from 0 (all A) to 1 (all B). */
function mixList(v: string): number[] {
  const one = num('--mix', 0, 1);
  const list = v.split(',').map((s) => one(s.trim()));
  if (list.length > 64) throw new Error(`--mix: at most 64 mixes in one call, got ${list.length}`);
  return list;
}

/** OUT.wav for one mix; OUT-mix0.25.wav for each of a sweep. The waveform mix: the same with -waveform. */
export function interpolationFiles(out: string, mixes: number[]): { embedding: string; waveform: string }[] {
  const ext = path.extname(out) || '.wav';
  const stem = path.join(path.dirname(out), path.basename(out, ext));
  return mixes.map((m) => {
    const tag = mixes.length === 1 ? '' : `-mix${m}`;
    return { embedding: `${stem}${tag}${ext}`, waveform: `${stem}${tag}-waveform${ext}` };
  });
}

export function interpolateCommand(): Command {
  return new Command('interpolate')
    .description(
      "morph between two notes: mix their embeddings and generate (NSynth's timbre interpolation), with the plain waveform mix beside it",
    )
    .argument('<a.wav>', 'first note (mix 0; any WAV: resampled to 16 kHz)')
    .argument('<b.wav>', 'second note (mix 1)')
    .requiredOption(
      '--out <out.wav>',
      'output WAV (16 kHz); OUT-waveform.wav gets the waveform mix; a sweep writes OUT-mixM.wav',
    )
    .addOption(
      new Option('--mix <m[,m...]>', 'share of B, from 0 to 1; a comma-separated list renders a sweep')
        .argParser(mixList)
        .default([0.5], '0.5'),
    )
    .addOption(modelOption())
    .option(
      '--pitch <midi>',
      "MIDI pitch for pitch-conditioned models (default: the notes' own, from file name, examples.json or f0, the nearer note's for each mix)",
      int('--pitch', 0, 127),
    )
    .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 0)
    .option('--temperature <t>', 'softmax temperature (1 = Magenta, 0 = argmax)', num('--temperature', 0), 1)
    .addOption(floatOption())
    .option('--json', 'print JSON: every file written (morphs and waveform mixes), the adapter and the seconds taken')
    .option('--quiet', 'no progress bar')
    .option(
      '--griffin-lim <rounds>',
      'spectrogram baseline models: Griffin-Lim rounds rebuilding the audio (the paper: 1000)',
      int('--griffin-lim', 0, 100000),
      1000,
    )
    .addHelpText(
      'after',
      examples(
        'nsynth interpolate guitar.wav flute.wav --out morph.wav',
        'nsynth interpolate guitar.wav flute.wav --mix 0,0.25,0.5,0.75,1 --seed 3 --out sweep/morph.wav',
      ),
    )
    .action(async (aFile: string, bFile: string, o: InterpolateFlags, cmd: Command) => {
      const a = await readNote(aFile);
      const b = await readNote(bFile);
      const files = interpolationFiles(o.out, o.mix);
      refuseHostMemory(
        o.mix.length * Math.min(a.length, b.length) * 16,
        `${o.mix.length} mixes`,
        'use fewer --mix values',
      );
      for (const f of files) prepareOutputFile(f.embedding);
      const t0 = performance.now();
      await withEngine(cmd, async (engine) => {
        // Each file with its mix, length and (for a pitch-conditioned model) the pitch it was decoded at.
        const report = (detail: string, samples: number, pitches?: number[]) => {
          if (o.json)
            printJson({
              ...audioResultHead(modelLabel(o.model), engine.adapter.name, o),
              files: files.map((f, i) => ({
                mix: o.mix[i],
                file: f.embedding,
                waveformMix: f.waveform,
                samples,
                pitch: pitches?.[i] ?? null,
              })),
              seconds: secondsSince(t0),
            });
          else
            console.log(
              `wrote ${files.map((f) => f.embedding).join(', ')} (and the waveform mix${files.length === 1 ? '' : 'es'} beside ${files.length === 1 ? 'it' : 'them'}) in ${secondsSince(t0).toFixed(1)} s (${engine.adapter.name}${detail})`,
            );
        };
        const baseline = openBaseline(o.model, o.seed);
        if (baseline) {
          const done = await interpolateWithBaseline(new BaselineModel(engine, baseline), aFile, bFile, a, b, files, o);
          report(`, baseline ${baseline.config.name}, Griffin-Lim ${o.griffinLim} rounds`, done.samples, done.pitches);
          return;
        }
        const model = await openModel(engine, o.model, o.seed);
        try {
          const c = model.config;
          refusePitchWithout(c, o.pitch);
          // A pitch-conditioned model takes one pitch per voice: --pitch, else the nearer note's.
          let pitches: number[] | undefined;
          let pitchNote = '';
          if (c.pitchConditioning) {
            const pa = notePitch(aFile, a, o.pitch);
            const pb = notePitch(bFile, b, o.pitch);
            pitches = o.mix.map((m) => (m <= 0.5 ? pa.pitch : pb.pitch));
            pitchNote =
              pa.pitch === pb.pitch
                ? `, pitch ${pa.pitch}`
                : `, pitch ${pa.pitch} (A) / ${pb.pitch} (B), the nearer note's`;
          }
          fitNoteLength(path.basename(aFile), a.length, c.hop, 'trim');
          fitNoteLength(path.basename(bFile), b.length, c.hop, 'trim');
          const [za, zb] = [await model.encode(a), await model.encode(b)];
          const voices = o.mix.map((m) => interpolateEmbeddings(za, zb, m));
          const samples = voices[0].shape[0] * c.hop;
          const audio = await generateVoices(model, voices, samples, { ...o, pitch: pitches });
          const depth = wavDepth(o);
          writeFilesAtomic(
            files.flatMap((f, i) => [
              { file: f.embedding, data: encodeWav(audio[i], c.sampleRate, depth) },
              {
                file: f.waveform,
                data: encodeWav(mixWaveforms(a, b, o.mix[i]).subarray(0, samples), c.sampleRate, depth),
              },
            ]),
          );
          report(pitchNote, samples, pitches);
        } finally {
          model.dispose();
        }
      });
    });
}

/** The baseline's morphs: codes mixed per --mix, decoded at the nearer note's pitch, audio by Griffin-Lim. */
async function interpolateWithBaseline(
  model: BaselineModel,
  aFile: string,
  bFile: string,
  a: Float32Array,
  b: Float32Array,
  files: { embedding: string; waveform: string }[],
  o: InterpolateFlags,
): Promise<{ samples: number; pitches: number[] }> {
  const bar = progressBar('morphing |{bar}| {value}/{total} mixes | ETA {eta_formatted}', o);
  try {
    const pa = notePitch(aFile, a, o.pitch).pitch;
    const pb = notePitch(bFile, b, o.pitch).pitch;
    const subject = baselineSubject(model, model.config.name, { iterations: o.griffinLim, seed: o.seed });
    const n = Math.min(a.length, b.length, model.config.samples);
    const [ca, cb] = [a.subarray(0, n), b.subarray(0, n)];
    const depth: WavDepth = wavDepth(o);
    const out: { file: string; data: Uint8Array }[] = [];
    bar?.start(o.mix.length, 0);
    for (const [i, m] of o.mix.entries()) {
      const [morph] = await subject.interpolate([[ca, cb]], m, [m <= 0.5 ? pa : pb]);
      out.push(
        { file: files[i].embedding, data: encodeWav(morph, model.config.sampleRate, depth) },
        { file: files[i].waveform, data: encodeWav(mixWaveforms(ca, cb, m), model.config.sampleRate, depth) },
      );
      bar?.increment();
    }
    writeFilesAtomic(out);
    return { samples: n, pitches: o.mix.map((m) => (m <= 0.5 ? pa : pb)) };
  } finally {
    bar?.stop();
    model.dispose();
  }
}
