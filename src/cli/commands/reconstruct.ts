// `nsynth reconstruct IN.wav --out OUT.wav`: the autoencoder's round trip (encode, then generate
// sample by sample), with the pitch error of the result against the input.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { cents, f0ErrorCents, medianF0, yinF0 } from '../../dsp/f0.js';
import { BaselineModel } from '../../autoencoder/baseline.js';
import { baselineSubject } from '../../eval/experiments.js';
import { prepareOutputFile } from '../../formats/atomic-write.js';
import { readWav16k, writeWav } from '../../formats/wav.js';
import type { Engine } from '../../gpu/engine.js';
import {
  int,
  MAX_SECONDS,
  MAX_SEED,
  modelOption,
  num,
  openBaseline,
  openModel,
  refusePitchWithout,
  withEngine,
} from '../options.js';
import { runGenerate } from './generate.js';

/** The MIDI pitch an NSynth file name carries (`guitar_acoustic_010-060-127.wav` -> 60), if any. */
export function pitchFromNSynthName(file: string): number | undefined {
  const m = /-(\d{3})-\d{3}\.wav$/i.exec(path.basename(file));
  return m ? Number(m[1]) : undefined;
}

/** The pitch in an `examples.json` beside the file (or one folder up, the release's `audio/` layout). */
function pitchFromMetadata(file: string): number | undefined {
  const key = path.basename(file).replace(/\.wav$/i, '');
  for (const dir of [path.dirname(file), path.dirname(path.dirname(file))]) {
    const meta = path.join(dir, 'examples.json');
    if (!fs.existsSync(meta)) continue;
    try {
      const pitch = (JSON.parse(fs.readFileSync(meta, 'utf8')) as Record<string, { pitch?: unknown }>)[key]?.pitch;
      if (Number.isInteger(pitch)) return pitch as number;
    } catch {
      // A damaged examples.json is no pitch source; the f0 estimate follows.
    }
  }
  return undefined;
}

/** The note's MIDI pitch: --pitch, the NSynth file name, its metadata, else the nearest to its median f0. */
export function notePitch(file: string, audio: Float32Array, given?: number): { pitch: number; from: string } {
  if (given !== undefined) return { pitch: given, from: '--pitch' };
  const named = pitchFromNSynthName(file);
  if (named !== undefined) return { pitch: named, from: 'the file name' };
  const meta = pitchFromMetadata(file);
  if (meta !== undefined) return { pitch: meta, from: 'examples.json' };
  const f0 = medianF0(yinF0(audio));
  if (f0 === 0) throw new Error(`${file}: no clear pitch to condition on; give --pitch MIDI`);
  return { pitch: Math.round(69 + cents(f0, 440) / 100), from: `its f0 (${f0.toFixed(1)} Hz)` };
}

interface ReconstructFlags {
  model?: string;
  out: string;
  pitch?: number;
  pitchShift?: number;
  seconds?: number;
  griffinLim: number;
  seed: number;
  temperature: number;
  quiet?: boolean;
}

export function reconstructCommand(): Command {
  return new Command('reconstruct')
    .description('encode a 16 kHz note and generate it back (the autoencoder round trip); prints the pitch error')
    .argument('<in.wav>', '16 kHz note')
    .requiredOption('--out <out.wav>', 'output WAV (float32, 16 kHz)')
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
    .option('--seconds <s>', 'reconstruct only the first S seconds', num('--seconds', 0, MAX_SECONDS, true))
    .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 0)
    .option('--temperature <t>', 'softmax temperature (1 = Magenta, 0 = argmax)', num('--temperature', 0), 1)
    .option('--quiet', 'no progress bar')
    .option(
      '--griffin-lim <rounds>',
      'spectrogram baseline models: Griffin-Lim rounds rebuilding the audio (the paper: 1000)',
      int('--griffin-lim', 0, 100000),
      1000,
    )
    .action(async (input: string, o: ReconstructFlags, cmd: Command) => {
      const original = readWav16k(input);
      await withEngine(cmd, async (engine) => {
        const baseline = openBaseline(o.model, o.seed);
        if (baseline) {
          await reconstructWithBaseline(engine, new BaselineModel(engine, baseline), input, original, o);
          return;
        }
        const model = await openModel(engine, o.model, o.seed);
        refusePitchWithout(model.config, o.pitch);
        if (o.pitchShift !== undefined && !model.config.pitchConditioning)
          throw new Error(`--pitch-shift: config ${model.config.name} is not pitch-conditioned (it takes no pitch)`);
        const pitch = model.config.pitchConditioning
          ? shiftedPitch(notePitch(input, original, o.pitch), o.pitchShift)
          : undefined;
        const shift = o.pitchShift ?? 0;
        const t0 = performance.now();
        const [file] = await runGenerate(model, {
          input,
          out: o.out,
          seconds: o.seconds,
          batch: 1,
          seed: o.seed,
          temperature: o.temperature,
          pitch: pitch?.pitch,
          quiet: o.quiet || !process.stderr.isTTY,
        });
        const s = (performance.now() - t0) / 1000;
        const recon = readWav16k(file);
        const err = f0ErrorCents(recon, original.subarray(0, recon.length));
        const pitchNote = pitch ? `, pitch ${pitch.pitch} from ${pitch.from}` : '';
        const f0Note =
          err === null
            ? 'no clear f0 to compare'
            : `f0 ${err >= 0 ? '+' : ''}${err.toFixed(0)} cents from the input${shift ? ` (asked ${shift > 0 ? '+' : ''}${shift * 100})` : ''}`;
        console.log(`wrote ${file} in ${s.toFixed(1)} s (${engine.adapter.name}${pitchNote}): ${f0Note}`);
        model.dispose();
      });
    });
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
  input: string,
  original: Float32Array,
  o: ReconstructFlags,
): Promise<void> {
  try {
    const c = model.config;
    const limit = Math.min(original.length, c.samples, o.seconds ? Math.round(o.seconds * c.sampleRate) : Infinity);
    const note = original.subarray(0, limit);
    const pitch = shiftedPitch(notePitch(input, original, o.pitch), o.pitchShift);
    prepareOutputFile(o.out);
    const t0 = performance.now();
    const subject = baselineSubject(model, c.name, { iterations: o.griffinLim, seed: o.seed });
    const [audio] = await subject.reconstruct([note], [pitch.pitch]);
    writeWav(o.out, audio);
    const s = (performance.now() - t0) / 1000;
    const err = f0ErrorCents(audio, note);
    const shift = o.pitchShift ?? 0;
    const cut =
      original.length > c.samples ? `; the baseline takes ${c.samples / c.sampleRate} s notes, the rest was cut` : '';
    const f0Note =
      err === null
        ? 'no clear f0 to compare'
        : `f0 ${err >= 0 ? '+' : ''}${err.toFixed(0)} cents from the input${shift ? ` (asked ${shift > 0 ? '+' : ''}${shift * 100})` : ''}`;
    console.log(
      `wrote ${o.out} in ${s.toFixed(1)} s (${engine.adapter.name}, baseline ${c.name}, pitch ${pitch.pitch} from ${pitch.from}, Griffin-Lim ${o.griffinLim} rounds${cut}): ${f0Note}`,
    );
  } finally {
    model.dispose();
  }
}
