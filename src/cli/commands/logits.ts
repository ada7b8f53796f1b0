// `nsynth logits`: the teacher-forced decoder's logits [T, 256] of a 16 kHz WAV as a float32 .npy.
import { prepareOutputFile } from '../../formats/atomic-write.js';
import { Command } from 'commander';
import { readWav16k } from '../../formats/wav.js';
import type { LengthPolicy } from '../../model/inputs.js';
import {
  int,
  lengthOption,
  modelOption,
  openModel,
  readNpy,
  withEngine,
  writeNpy,
  refusePitchWithout,
  refuseHostMemory,
} from '../options.js';

export function logitsCommand(): Command {
  return new Command('logits')
    .description('teacher-forced decoder logits [T, 256] of a 16 kHz WAV (float32 .npy)')
    .argument('<in.wav>', '16 kHz audio')
    .addOption(modelOption())
    .requiredOption('--out <logits.npy>', 'output .npy')
    .option('--embedding <emb.npy>', 'use this embedding [frames, 16] instead of encoding the audio')
    .option('--pitch <midi>', 'MIDI pitch, for pitch-conditioned configs', int('--pitch', 0, 127))
    .addOption(lengthOption())
    .action(
      async (
        input: string,
        o: { model?: string; out: string; embedding?: string; pitch?: number; lengthPolicy: LengthPolicy },
        cmd: Command,
      ) => {
        const audio = readWav16k(input);
        // 256 logits of 4 bytes per sample, held and then encoded as NPY.
        refuseHostMemory(
          audio.length * 256 * 4 * 2,
          `the logits of ${input} (${audio.length} samples)`,
          'give a shorter note',
        );
        const emb = o.embedding ? readNpy(o.embedding) : null;
        prepareOutputFile(o.out);
        await withEngine(cmd, async (engine) => {
          const model = await openModel(engine, o.model);
          refusePitchWithout(model.config, o.pitch);
          const logits = await model.teacherForcedLogits(audio, emb, { lengthPolicy: o.lengthPolicy, pitch: o.pitch });
          writeNpy(o.out, logits.data, logits.shape);
          console.log(`wrote ${o.out}: logits [${logits.shape}] (${engine.adapter.name})`);
          model.dispose();
        });
      },
    );
}
