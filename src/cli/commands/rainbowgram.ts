// `nsynth rainbowgram`: the rainbowgram of a note (and of others beside it) as a PNG. No GPU.
import * as path from 'node:path';
import { Command } from 'commander';
import { prepareOutputFile, writeFileAtomic } from '../../formats/atomic-write.js';
import { readWav16k } from '../../formats/wav.js';
import { rainbowgramFigure } from '../../eval/figure.js';
import { MAX_SECONDS, num } from '../options.js';

export function rainbowgramCommand(): Command {
  return new Command('rainbowgram')
    .description(
      'draw a rainbowgram (constant-Q: brightness = log magnitude, colour = instantaneous frequency) as a PNG',
    )
    .argument('<in.wav>', '16 kHz audio')
    .requiredOption('--out <out.png>', 'output PNG')
    .option('--compare <other.wav...>', 'more notes, drawn below the first for side-by-side reading')
    .option('--top-db <db>', 'brightness range below the loudest bin', num('--top-db', 1, 200), 70)
    .action((input: string, o: { out: string; compare?: string[]; topDb: number }) => {
      const files = [input, ...(o.compare ?? [])];
      const panels = files.map((file) => {
        const audio = readWav16k(file);
        if (audio.length > MAX_SECONDS * 16000)
          throw new Error(`${file}: ${(audio.length / 16000).toFixed(0)} s, over the ${MAX_SECONDS} s drawn at once`);
        return { audio, title: path.basename(file) };
      });
      prepareOutputFile(o.out);
      writeFileAtomic(o.out, rainbowgramFigure(panels, { topDb: o.topDb }));
      console.log(`wrote ${o.out}: rainbowgram of ${files.length} note${files.length === 1 ? '' : 's'}`);
    });
}
