// `nsynth encode`: a 16 kHz WAV -> its embedding [frames, 16] as a float32 .npy.
import { prepareOutputFile } from '../../formats/atomic-write.js';
import { Command } from 'commander';
import { readWav16k } from '../../formats/wav.js';
import type { LengthPolicy } from '../../model/inputs.js';
import { lengthOption, modelOption, openModel, withEngine, writeNpy } from '../options.js';

export function encodeCommand(): Command {
  return new Command('encode')
    .description('encode a 16 kHz WAV into its embedding [frames, 16] (float32 .npy)')
    .argument('<in.wav>', '16 kHz audio')
    .addOption(modelOption())
    .requiredOption('--out <emb.npy>', 'output .npy')
    .addOption(lengthOption())
    .action(async (input: string, o: { model?: string; out: string; lengthPolicy: LengthPolicy }, cmd: Command) => {
      const audio = readWav16k(input);
      prepareOutputFile(o.out);
      await withEngine(cmd, async (engine) => {
        const model = await openModel(engine, o.model);
        const emb = await model.encode(audio, { lengthPolicy: o.lengthPolicy });
        writeNpy(o.out, emb.data, emb.shape);
        console.log(`wrote ${o.out}: embedding [${emb.shape}] (${engine.adapter.name})`);
        model.dispose();
      });
    });
}
