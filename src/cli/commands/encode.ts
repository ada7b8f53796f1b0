// `nsynth encode`: a WAV (any rate: resampled to 16 kHz) or a folder of them -> embeddings
// [frames, 16] as float32 .npy files.
import * as path from 'node:path';
import { Command } from 'commander';
import { prepareOutputFile } from '../../formats/atomic-write.js';
import type { LengthPolicy } from '../../model/inputs.js';
import { fitNoteLength, inputOf, listNotes, namesFolder, outputsInFolder, readNote } from '../audio.js';
import { examples, lengthOption, modelLabel, modelOption, openModel, withEngine, writeNpy } from '../options.js';
import { printJson, progressBar, secondsSince } from '../output.js';

interface EncodeFlags {
  input?: string;
  model?: string;
  out: string;
  lengthPolicy: LengthPolicy;
  json?: boolean;
  quiet?: boolean;
}

export function encodeCommand(): Command {
  return new Command('encode')
    .description(
      'encode a note (any WAV: resampled to 16 kHz, mixed to mono) or a folder of notes into embeddings [frames, 16] (float32 .npy)',
    )
    .argument('[in.wav]', 'a WAV file, or a folder of them')
    .option('--input <path>', 'the same as the argument: a WAV file or a folder of them (Magenta: --source_path)')
    .addOption(modelOption())
    .requiredOption('--out <emb.npy>', 'output .npy; with a folder of notes, a folder (one NOTE.npy per note)')
    .addOption(lengthOption())
    .option('--json', 'print JSON: every file written with its shape, the adapter and the seconds taken')
    .option('--quiet', 'no progress bar')
    .addHelpText(
      'after',
      examples(
        'nsynth encode note.wav --model weights/tiny-random --out emb.npy',
        'nsynth encode --input notes/ --out embeddings/ --json',
      ),
    )
    .action(async (argument: string | undefined, o: EncodeFlags, cmd: Command) => {
      const { files, folder } = listNotes(inputOf(argument, o.input));
      const outs = folder || namesFolder(o.out) ? outputsInFolder(files, o.out, '.npy').map(([f]) => f) : [o.out];
      for (const f of outs) prepareOutputFile(f);
      const t0 = performance.now();
      // The first note is read before the GPU starts: a file that cannot be read fails at once.
      const first = await readNote(files[0]);
      await withEngine(cmd, async (engine) => {
        const model = await openModel(engine, o.model);
        const bar = folder ? progressBar('encoding |{bar}| {value}/{total} notes | ETA {eta_formatted}', o) : null;
        bar?.start(files.length, 0);
        const written: { input: string; file: string; shape: number[] }[] = [];
        try {
          for (const [i, input] of files.entries()) {
            const audio = i === 0 ? first : await readNote(input);
            fitNoteLength(path.basename(input), audio.length, model.config.hop, o.lengthPolicy);
            const emb = await model.encode(audio, { lengthPolicy: o.lengthPolicy });
            // One file per note as it is done: a long folder's finished notes survive an interruption.
            writeNpy(outs[i], emb.data, emb.shape);
            written.push({ input, file: outs[i], shape: emb.shape });
            bar?.update(i + 1);
          }
        } finally {
          bar?.stop();
          model.dispose();
        }
        if (o.json) {
          printJson({
            model: modelLabel(o.model),
            adapter: engine.adapter.name,
            files: written,
            seconds: secondsSince(t0),
          });
        } else if (!folder) {
          console.log(`wrote ${outs[0]}: embedding [${written[0].shape}] (${engine.adapter.name})`);
        } else {
          console.log(
            `wrote ${written.length} embeddings to ${o.out} in ${secondsSince(t0).toFixed(1)} s (${engine.adapter.name})`,
          );
        }
      });
    });
}
