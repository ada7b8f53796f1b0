// `nsynth synth-data`: synthetic NSynth-like notes in the release's JSON/WAV layout.
import { Command } from 'commander';
import { writeSyntheticDataset } from '../../dataset/synthetic-notes.js';
import { examples, int, num, MAX_SEED, MAX_SECONDS } from '../options.js';

export function synthDataCommand(): Command {
  return new Command('synth-data')
    .description("write synthetic NSynth-like notes in the release's JSON/WAV layout (data for tests and first models)")
    .requiredOption('--out <dir>', 'output folder (examples.json + audio/)')
    .option('--notes <n>', 'number of notes', int('--notes', 1), 100)
    .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 0)
    .option('--seconds <s>', 'length of each note (NSynth: 4)', num('--seconds', 0, MAX_SECONDS, true), 4)
    .option('--pitch-min <midi>', 'lowest MIDI pitch', int('--pitch-min', 0, 127), 36)
    .option('--pitch-max <midi>', 'highest MIDI pitch', int('--pitch-max', 0, 127), 84)
    .addHelpText(
      'after',
      examples(
        'nsynth synth-data --out data/synthetic --notes 200 --seed 1',
        'nsynth synth-data --out data/short --notes 8 --seconds 1 --pitch-min 48 --pitch-max 72',
      ),
    )
    .action((o: { out: string; notes: number; seed: number; seconds: number; pitchMin: number; pitchMax: number }) => {
      const metas = writeSyntheticDataset(o.out, {
        notes: o.notes,
        seed: o.seed,
        samples: Math.round(o.seconds * 16000),
        pitchMin: o.pitchMin,
        pitchMax: o.pitchMax,
      });
      console.log(`wrote ${metas.length} notes to ${o.out} (examples.json + audio/)`);
    });
}
