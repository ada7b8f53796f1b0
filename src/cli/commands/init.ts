// `nsynth init`: a randomly initialised model written as a weights folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { assertReplaceable } from '../../formats/output-folder.js';
import { writeWeightsDir } from '../../formats/weights-node.js';
import { CONFIGS, getConfig } from '../../model/config.js';
import { initWeights, parameterCount } from '../../model/weights.js';
import { examples, int, MAX_SEED } from '../options.js';
import { printJson, secondsSince } from '../output.js';

export function initCommand(): Command {
  return new Command('init')
    .description("write a randomly initialised model (Magenta's initialisation) to a weights folder")
    .requiredOption('--config <name>', `model config (${Object.keys(CONFIGS).join(', ')})`)
    .option('--seed <n>', 'random seed', int('--seed', 0, MAX_SEED), 0)
    .requiredOption('--out <dir>', 'output folder (manifest.json + weights.bin)')
    .option('--dtype <dtype>', 'stored precision: f32 or f16', 'f32')
    .option('--overwrite', '--out may replace a weights folder that holds a trained model (refused otherwise)')
    .option('--json', 'print JSON: the folder, config, parameters, seed, dtype and seconds')
    .addHelpText(
      'after',
      examples(
        'nsynth init --config tiny --seed 1 --out weights/tiny-random',
        'nsynth init --config h512_bo16 --dtype f16 --out weights/h512-random --json',
      ),
    )
    .action((o: { config: string; seed: number; out: string; dtype: string; json?: boolean; overwrite?: boolean }) => {
      const t0 = performance.now();
      const config = getConfig(o.config);
      if (o.dtype !== 'f32' && o.dtype !== 'f16') throw new Error(`--dtype must be f32 or f16, got ${o.dtype}`);
      // A folder of someone else's is never written into; a trained model (weights/default!) only with --overwrite.
      assertReplaceable(o.out, '--out', { overwriteTrained: o.overwrite });
      const w = initWeights(config, o.seed);
      writeWeightsDir(o.out, w, o.dtype, { createdBy: 'nsynth init', seed: o.seed });
      const parameters = parameterCount(config);
      if (o.json) {
        printJson({
          out: o.out,
          files: fs
            .readdirSync(o.out)
            .sort()
            .map((f) => path.join(o.out, f)),
          config: config.name,
          parameters,
          seed: o.seed,
          dtype: o.dtype,
          seconds: secondsSince(t0),
        });
        return;
      }
      console.log(
        `wrote ${o.out}: config ${config.name}, ${parameters.toLocaleString('en-US')} parameters, seed ${o.seed}`,
      );
    });
}
