// `nsynth rainbowgram`: the rainbowgram of a note (and of others beside it) as a PNG. No GPU.
import * as path from 'node:path';
import { Command } from 'commander';
import { prepareOutputFile, writeFileAtomic } from '../../formats/atomic-write.js';
import { rainbowgramFigure } from '../../eval/figure.js';
import { readNote } from '../audio.js';
import { examples, MAX_SECONDS, num } from '../options.js';

export function rainbowgramCommand(): Command {
  return new Command('rainbowgram')
    .description(
      'draw a rainbowgram (constant-Q: brightness = log magnitude, colour = instantaneous frequency) as a PNG',
    )
    .argument('<in.wav>', 'the note (any WAV: resampled to 16 kHz)')
    .requiredOption('--out <out.png>', 'output PNG')
    .option('--compare <other.wav...>', 'more notes, drawn below the first for side-by-side reading')
    .option('--top-db <db>', 'brightness range below the loudest bin', num('--top-db', 1, 200), 70)
    .addHelpText(
      'after',
      examples(
        'nsynth rainbowgram note.wav --out note.png',
        'nsynth rainbowgram note.wav --compare out.wav --top-db 80 --out compare.png',
      ),
    )
    .action(async (input: string, o: { out: string; compare?: string[]; topDb: number }) => {
      const files = [input, ...(o.compare ?? [])];
      const panels: { audio: Float32Array; title: string }[] = [];
      for (const file of files) {
        const audio = await readNote(file);
        if (audio.length > MAX_SECONDS * 16000)
          throw new Error(`${file}: ${(audio.length / 16000).toFixed(0)} s, over the ${MAX_SECONDS} s drawn at once`);
        panels.push({ audio, title: path.basename(file) });
      }
      prepareOutputFile(o.out);
      writeFileAtomic(o.out, rainbowgramFigure(panels, { topDb: o.topDb }));
      console.log(`wrote ${o.out}: rainbowgram of ${files.length} note${files.length === 1 ? '' : 's'}`);
    });
}
