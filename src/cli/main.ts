// The `nsynth` command line: a table of commands, one file each in commands/, every one a thin
// layer over the library. The global --adapter option is read by each command through withEngine.
import { Command } from 'commander';
import { benchCommand } from './commands/bench.js';
import { convertCommand } from './commands/convert.js';
import { encodeCommand } from './commands/encode.js';
import { evalCommand } from './commands/eval.js';
import { generateCommand } from './commands/generate.js';
import { initCommand } from './commands/init.js';
import { interpolateCommand } from './commands/interpolate.js';
import { inspectCommand } from './commands/inspect.js';
import { logitsCommand } from './commands/logits.js';
import { rainbowgramCommand } from './commands/rainbowgram.js';
import { reconstructCommand } from './commands/reconstruct.js';
import { synthDataCommand } from './commands/synth-data.js';
import { trainCommand } from './commands/train.js';

/** Every command, in the order `nsynth --help` lists them. */
const COMMANDS: (() => Command)[] = [
  initCommand,
  encodeCommand,
  logitsCommand,
  generateCommand,
  reconstructCommand,
  interpolateCommand,
  rainbowgramCommand,
  evalCommand,
  trainCommand,
  synthDataCommand,
  convertCommand,
  inspectCommand,
  benchCommand,
];

/** The program's settings (help after an error, output) for a command and its subcommands. */
function inheritSettings(cmd: Command, from: Command): Command {
  cmd.copyInheritedSettings(from);
  for (const sub of cmd.commands) inheritSettings(sub, cmd);
  return cmd;
}

export function buildCli(): Command {
  const program = new Command()
    .name('nsynth')
    .description('The NSynth WaveNet autoencoder on WebGPU (WGSL compute kernels)')
    .option(
      '--adapter <name>',
      'auto | hardware | lavapipe | swiftshader | path to a Vulkan ICD .json (default: $NSYNTH_ADAPTER or auto)',
    )
    .showHelpAfterError();
  for (const make of COMMANDS) program.addCommand(inheritSettings(make(), program));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    // A command that stopped on Ctrl-C after saving its state (train) reports it as a shell would.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    // Ctrl-C during generation: the work stopped and nothing was written; 130 as a shell reports SIGINT.
    if ((e as Error).name === 'AbortError') {
      console.error('nsynth: cancelled; nothing was written');
      return 130;
    }
    console.error(`nsynth: ${(e as Error).message}`);
    if (process.env.NSYNTH_DEBUG) console.error(e);
    return 1;
  }
}
