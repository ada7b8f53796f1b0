// The `nsynth` command line: a table of commands, one file each in commands/, every one a thin
// layer over the library. The global --adapter option is read by each command through withEngine.
// Every error ends as one line, `nsynth: <message>`, and a non-zero exit; --verbose (or
// NSYNTH_DEBUG) adds its stack.
import { Command, CommanderError } from 'commander';
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
import { renderCommand } from './commands/render.js';
import { synthDataCommand } from './commands/synth-data.js';
import { trainCommand } from './commands/train.js';
import { examples } from './options.js';
import { packageVersion } from './run-info.js';

/** Every command, in the order `nsynth --help` lists them. */
const COMMANDS: (() => Command)[] = [
  initCommand,
  encodeCommand,
  logitsCommand,
  generateCommand,
  reconstructCommand,
  interpolateCommand,
  renderCommand,
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
    .version(packageVersion(), '-V, --version', 'print the version')
    .option(
      '--adapter <name>',
      'auto | hardware | gpu:N (the Nth GPU on the PCI bus: one process per GPU) | lavapipe | swiftshader | path to a Vulkan ICD .json (default: $NSYNTH_ADAPTER or auto)',
    )
    .option('--verbose', 'on an error, print its stack too (as NSYNTH_DEBUG=1 does)')
    // Commander's own errors (an unknown option, a missing argument) are thrown to main, which
    // prints them as every other error: one line.
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .addHelpText(
      'after',
      examples(
        'nsynth reconstruct note.wav --out out.wav',
        'nsynth generate --input note.wav --out - | aplay -f S16_LE -r 16000 -c 1',
        'nsynth encode --help',
      ),
    );
  for (const make of COMMANDS) program.addCommand(inheritSettings(make(), program));
  return program;
}

/** The command an argument list names (`nsynth bench generate`), for the hint after a usage error. */
function commandNamed(program: Command, args: string[]): string {
  const names = [program.name()];
  let cmd = program;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--adapter') i++; // the global option's value is no command name
    if (a.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === a);
    if (!sub) break;
    cmd = sub;
    names.push(sub.name());
  }
  return names.join(' ');
}

export async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  const verbose = args.includes('--verbose') || !!process.env.NSYNTH_DEBUG;
  const program = buildCli();
  try {
    await program.parseAsync(argv);
    // A command that stopped on Ctrl-C after saving its state (train) reports it as a shell would.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version printed what was asked; `nsynth` or `nsynth bench` alone printed its help.
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code)) return e.exitCode;
      const message = e.message.replace(/^error: /, '').replace(/\.$/, '');
      console.error(`nsynth: ${message} (see ${commandNamed(program, args)} --help)`);
      return e.exitCode || 1;
    }
    // Ctrl-C during generation: the work stopped and nothing was written; 130 as a shell reports SIGINT.
    if ((e as Error).name === 'AbortError') {
      console.error('nsynth: cancelled; nothing was written');
      return 130;
    }
    console.error(`nsynth: ${e instanceof Error ? e.message : String(e)}`);
    if (verbose) console.error(e instanceof Error ? e.stack : e);
    return 1;
  }
}
