// `nsynth reconstruct IN.wav --out OUT.wav`: the autoencoder's round trip (encode, then generate
// sample by sample), with the pitch error of the result against the input; a folder of notes in,
// a folder of reconstructions out.
import * as path from 'node:path';
import { Command } from 'commander';
import { f0ErrorCents } from '../../dsp/f0.js';
import { notePitch } from '../../dataset/note-pitch.js';
import { BaselineModel } from '../../autoencoder/baseline.js';
import { baselineSubject } from '../../eval/experiments.js';
import { prepareOutputFile, writeFilesAtomic } from '../../formats/atomic-write.js';
import { encodeWav } from '../../formats/wav.js';
import type { Engine } from '../../gpu/engine.js';
import type { HostTensor, LengthPolicy } from '../../model/inputs.js';
import type { NSynthModel } from '../../nsynth.js';
import { floatOption, inputOf, listNotes, namesFolder, outputsInFolder, readNote, wavDepth } from '../audio.js';
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
  openBaseline,
  openModel,
  refuseHostMemory,
  withEngine,
} from '../options.js';
import { audioResultHead, notice, printJson, secondsSince } from '../output.js';
import { embeddingFor, framesWanted, generateVoices } from './generate.js';

interface ReconstructFlags {
  input?: string;
  model?: string;
  out: string;
  pitch?: number;
  pitchShift?: number;
  seconds?: number;
  griffinLim: number;
  seed: number;
  temperature: number;
  lengthPolicy: LengthPolicy;
  float?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** A note to reconstruct: where it is read from and written to, and its samples (16 kHz mono). */
interface Note {
  input: string;
  out: string;
  audio: Float32Array;
}

/** One reconstruction, as --json reports it. */
interface Reconstruction {
  input: string;
  file: string;
  samples: number;
  pitch: number | null;
  pitchFrom: string | null;
  f0ErrorCents: number | null;
}

export function reconstructCommand(): Command {
  return new Command('reconstruct')
    .description(
      'encode a note (any WAV: resampled to 16 kHz) or a folder of notes and generate it back (the autoencoder round trip); prints the pitch error',
    )
    .argument('[in.wav]', 'the note, or a folder of notes')
    .option('--input <path>', 'the same as the argument: a WAV file or a folder of them (Magenta: --source_path)')
    .requiredOption('--out <out.wav>', 'output WAV (16 kHz); for a folder of notes, a folder (one NOTE.wav per note)')
    .addOption(modelOption())
    .option(
      '--pitch <midi>',
      'MIDI pitch for pitch-conditioned models (default: file name, examples.json, or f0)',
      int('--pitch', 0, 127),
    )
    .option(
      '--pitch-shift <semitones>',
      "pitch-conditioned models: decode at the note's pitch plus this many semitones (the paper's pitch experiment)",
      int('--pitch-shift', -127, 127),
    )
    .option(
      '--seconds <s>',
      'reconstruct only the first S seconds (whole frames of 512 samples)',
      num('--seconds', 0, MAX_SECONDS, true),
    )
    .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 0)
    .option('--temperature <t>', 'softmax temperature (1 = Magenta, 0 = argmax)', num('--temperature', 0), 1)
    .addOption(lengthOption())
    .addOption(floatOption())
    .option('--json', 'print JSON: every file written with its pitch and f0 error, the adapter and the seconds taken')
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
        'nsynth reconstruct guitar_acoustic_010-060-127.wav --out out.wav',
        'nsynth reconstruct note.wav --model weights/baseline-small --pitch-shift 2 --out up2.wav',
        'nsynth reconstruct --input notes/ --out reconstructions/ --seconds 1 --json',
      ),
    )
    .action(async (argument: string | undefined, o: ReconstructFlags, cmd: Command) => {
      const { files, folder } = listNotes(inputOf(argument, o.input));
      const outs = folder || namesFolder(o.out) ? outputsInFolder(files, o.out, '.wav').map(([f]) => f) : [o.out];
      const notes: Note[] = [];
      for (const [i, input] of files.entries()) notes.push({ input, out: outs[i], audio: await readNote(input) });
      await withEngine(cmd, async (engine) => {
        const t0 = performance.now();
        const baseline = openBaseline(o.model, o.seed);
        const done = baseline
          ? await reconstructWithBaseline(engine, new BaselineModel(engine, baseline), notes, o)
          : await reconstructWithWaveNet(engine, await openModel(engine, o.model, o.seed), notes, o);
        if (o.json)
          printJson({
            ...audioResultHead(modelLabel(o.model), engine.adapter.name, o),
            files: done,
            seconds: secondsSince(t0),
          });
        else if (folder)
          console.log(
            `wrote ${done.length} reconstructions to ${o.out} in ${secondsSince(t0).toFixed(1)} s (${engine.adapter.name})`,
          );
      });
    });
}

/** `f0 +12 cents from the input (asked +200)`, or that there is no clear f0 to compare. */
function f0Note(err: number | null, shift: number): string {
  if (err === null) return 'no clear f0 to compare';
  const asked = shift ? ` (asked ${shift > 0 ? '+' : ''}${shift * 100})` : '';
  return `f0 ${err >= 0 ? '+' : ''}${err.toFixed(0)} cents from the input${asked}`;
}

/** Every note encoded and generated back together (one voice each, at its own length and pitch). */
async function reconstructWithWaveNet(
  engine: Engine,
  model: NSynthModel,
  notes: Note[],
  o: ReconstructFlags,
): Promise<Reconstruction[]> {
  try {
    const c = model.config;
    if (o.pitchShift !== undefined && !c.pitchConditioning)
      throw new Error(`--pitch-shift: config ${c.name} is not pitch-conditioned (it takes no pitch)`);
    const pitches = notes.map((n) => {
      const p = conditioningPitch(c, o.pitch, { file: n.input, audio: n.audio });
      return p && shiftedPitch(p, o.pitchShift);
    });
    const frames = framesWanted(model, { seconds: o.seconds, batch: notes.length });
    for (const n of notes) prepareOutputFile(n.out);
    const t0 = performance.now();
    const voices: HostTensor[] = [];
    for (const n of notes)
      voices.push(
        await embeddingFor(
          model,
          { ...o, batch: 1, audio: n.audio, audioName: path.basename(n.input) },
          framesWithin(n, frames, c.hop, c.sampleRate, o.lengthPolicy),
        ),
      );
    const longest = Math.max(...voices.map((v) => v.shape[0]));
    refuseHostMemory(
      voices.length * longest * c.hop * 8,
      `${voices.length} notes of ${longest * c.hop} samples`,
      'use --seconds',
    );
    const audio = await generateVoices(model, voices, longest * c.hop, {
      ...o,
      pitch: c.pitchConditioning ? pitches.map((p) => p?.pitch as number) : undefined,
    });
    writeFilesAtomic(notes.map((n, i) => ({ file: n.out, data: encodeWav(audio[i], c.sampleRate, wavDepth(o)) })));
    const s = (performance.now() - t0) / 1000;
    const shift = o.pitchShift ?? 0;
    return notes.map((n, i) => {
      const err = f0ErrorCents(audio[i], n.audio.subarray(0, audio[i].length));
      const p = pitches[i];
      if (!o.json) {
        const where =
          notes.length === 1
            ? ` in ${s.toFixed(1)} s (${engine.adapter.name}${p ? `, pitch ${p.pitch} from ${p.from}` : ''})`
            : p
              ? ` (pitch ${p.pitch} from ${p.from})`
              : '';
        console.log(`wrote ${n.out}${where}: ${f0Note(err, shift)}`);
      }
      return {
        input: n.input,
        file: n.out,
        samples: audio[i].length,
        pitch: p?.pitch ?? null,
        pitchFrom: p?.from ?? null,
        f0ErrorCents: err,
      };
    });
  } finally {
    model.dispose();
  }
}

/**
 * --seconds reconstructs the first S seconds of a note: a note shorter than that is reconstructed
 * whole (said on stderr), not padded with generated silence. Whole is what its length policy makes
 * of it: its whole frames (trim, strict) or one more, padded (pad).
 */
function framesWithin(
  n: Note,
  frames: number | undefined,
  hop: number,
  rate: number,
  policy: LengthPolicy = 'trim',
): number | undefined {
  const whole = (policy === 'pad' ? Math.ceil : Math.floor)(n.audio.length / hop);
  if (frames === undefined || frames <= whole || whole === 0) return frames;
  notice(
    `${path.basename(n.input)} is ${(n.audio.length / rate).toFixed(2)} s, shorter than --seconds asks: reconstructing all of it (${whole} frames)`,
  );
  return whole;
}

/** The note's pitch moved by --pitch-shift, refused outside MIDI 0-127. */
function shiftedPitch(p: { pitch: number; from: string }, shift = 0): { pitch: number; from: string } {
  if (!shift) return p;
  const shifted = p.pitch + shift;
  if (shifted < 0 || shifted > 127)
    throw new Error(`--pitch-shift ${shift}: pitch ${p.pitch} + ${shift} = ${shifted} is outside MIDI 0-127`);
  return { pitch: shifted, from: `${p.from} shifted ${shift > 0 ? '+' : ''}${shift}` };
}

/** The spectrogram baseline's round trip: its code, decoded at the note's (shifted) pitch, audio by Griffin-Lim. */
async function reconstructWithBaseline(
  engine: Engine,
  model: BaselineModel,
  notes: Note[],
  o: ReconstructFlags,
): Promise<Reconstruction[]> {
  try {
    const c = model.config;
    const pitches = notes.map((n) => shiftedPitch(notePitch(n.input, n.audio, o.pitch), o.pitchShift));
    for (const n of notes) prepareOutputFile(n.out);
    const subject = baselineSubject(model, c.name, { iterations: o.griffinLim, seed: o.seed });
    const shift = o.pitchShift ?? 0;
    const done: Reconstruction[] = [];
    for (const [i, n] of notes.entries()) {
      const t0 = performance.now();
      const limit = Math.min(n.audio.length, c.samples, o.seconds ? Math.round(o.seconds * c.sampleRate) : Infinity);
      const note = n.audio.subarray(0, limit);
      const pitch = pitches[i];
      const [audio] = await subject.reconstruct([note], [pitch.pitch]);
      writeFilesAtomic([{ file: n.out, data: encodeWav(audio, c.sampleRate, wavDepth(o)) }]);
      const err = f0ErrorCents(audio, note);
      const cut =
        n.audio.length > c.samples ? `; the baseline takes ${c.samples / c.sampleRate} s notes, the rest was cut` : '';
      if (!o.json)
        console.log(
          `wrote ${n.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s (${engine.adapter.name}, baseline ${c.name}, pitch ${pitch.pitch} from ${pitch.from}, Griffin-Lim ${o.griffinLim} rounds${cut}): ${f0Note(err, shift)}`,
        );
      done.push({
        input: n.input,
        file: n.out,
        samples: audio.length,
        pitch: pitch.pitch,
        pitchFrom: pitch.from,
        f0ErrorCents: err,
      });
    }
    return done;
  } finally {
    model.dispose();
  }
}
