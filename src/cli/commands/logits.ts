// `nsynth logits`: the teacher-forced decoder's logits [T, 256] of a note (any WAV: resampled to
// 16 kHz) as a float32 .npy.
import * as path from 'node:path';
import { Command } from 'commander';
import { prepareOutputFile } from '../../formats/atomic-write.js';
import type { LengthPolicy } from '../../model/inputs.js';
import { fitNoteLength, readNote } from '../audio.js';
import {
  examples,
  int,
  lengthOption,
  modelLabel,
  modelOption,
  openModel,
  readNpy,
  refuseHostMemory,
  conditioningPitch,
  withEngine,
  writeNpy,
} from '../options.js';
import { pitchNotice, printJson, secondsSince } from '../output.js';

interface LogitsFlags {
  model?: string;
  out: string;
  embedding?: string;
  pitch?: number;
  lengthPolicy: LengthPolicy;
  json?: boolean;
}

export function logitsCommand(): Command {
  return new Command('logits')
    .description('teacher-forced decoder logits [T, 256] of a note (any WAV: resampled to 16 kHz) as a float32 .npy')
    .argument('<in.wav>', 'the note')
    .addOption(modelOption())
    .requiredOption('--out <logits.npy>', 'output .npy')
    .option('--embedding <emb.npy>', 'use this embedding [frames, 16] instead of encoding the audio')
    .option('--pitch <midi>', 'MIDI pitch, for pitch-conditioned configs', int('--pitch', 0, 127))
    .addOption(lengthOption())
    .option('--json', 'print JSON: the file written, its shape, the adapter and the seconds taken')
    .addHelpText(
      'after',
      examples(
        'nsynth logits note.wav --model weights/tiny-random --out logits.npy',
        'nsynth logits note.wav --model weights/tiny-random --embedding emb.npy --out logits.npy --json',
      ),
    )
    .action(async (input: string, o: LogitsFlags, cmd: Command) => {
      const t0 = performance.now();
      const audio = await readNote(input);
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
        try {
          // A pitch-conditioned model takes the note's pitch as `reconstruct` does (--pitch, else the note's own).
          const pitch = conditioningPitch(model.config, o.pitch, { file: input, audio });
          pitchNotice(path.basename(input), pitch);
          fitNoteLength(path.basename(input), audio.length, model.config.hop, o.lengthPolicy);
          const logits = await model.teacherForcedLogits(audio, emb, {
            lengthPolicy: o.lengthPolicy,
            pitch: pitch?.pitch,
          });
          writeNpy(o.out, logits.data, logits.shape);
          if (o.json)
            printJson({
              model: modelLabel(o.model),
              adapter: engine.adapter.name,
              files: [{ input, file: o.out, shape: logits.shape }],
              seconds: secondsSince(t0),
            });
          else console.log(`wrote ${o.out}: logits [${logits.shape}] (${engine.adapter.name})`);
        } finally {
          model.dispose();
        }
      });
    });
}
