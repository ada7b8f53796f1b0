// The command line's shape, without a GPU: every command's --help ends with examples, each example
// parses against its command (options, arguments, values), every command refuses unknown options
// and excess arguments, and errors are one line `nsynth: ...` (the stack only with --verbose).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildCli } from '../src/cli/main.js';
import { nsynth } from './cli-run.js';

/** Every command under `cmd` (itself included) with its path of names. */
function walk(cmd: Command, names: string[] = []): { cmd: Command; path: string[] }[] {
  const here = names.length ? [{ cmd, path: names }] : [{ cmd, path: [] }];
  return [...here, ...cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => walk(c, [...names, c.name()]))];
}

/** What `--help` prints, after-help text included. */
function helpOf(cmd: Command): string {
  let text = '';
  const write = (s: string) => {
    text += s;
  };
  cmd.configureOutput({ writeOut: write, writeErr: write });
  cmd.outputHelp();
  return text;
}

/** The `$ nsynth ...` lines under `Examples:`, as argument lists (a pipe and what follows dropped). */
function examplesOf(help: string): string[][] {
  const at = help.indexOf('\nExamples:\n');
  if (at < 0) return [];
  return help
    .slice(at)
    .split('\n')
    .filter((l) => l.trim().startsWith('$ nsynth'))
    .map((l) => l.trim().slice(2).split('|')[0].trim().split(/\s+/).slice(1));
}

/**
 * A fresh CLI whose commands do nothing: parsing an argument list checks it as the real one would
 * (required options, values, argument counts) and reports which command ran, or throws.
 */
async function parse(args: string[]): Promise<string> {
  const program = buildCli();
  let ran = '';
  for (const { cmd, path: p } of walk(program))
    if (cmd.commands.length === 0 && p.length)
      cmd.action(() => {
        ran = p.join(' ');
      });
  await program.parseAsync(args, { from: 'user' });
  return ran;
}

async function commanderError(args: string[]): Promise<CommanderError> {
  try {
    await parse(args);
  } catch (e) {
    if (e instanceof CommanderError) return e;
    throw e;
  }
  throw new Error(`nsynth ${args.join(' ')} was accepted`);
}

const commands = walk(buildCli());
const leaves = commands.filter((c) => c.cmd.commands.length === 0);

describe('nsynth --help', () => {
  it('every command, bench subcommands included, ends its help with examples that parse as that command', async () => {
    expect(leaves.map((c) => c.path.join(' '))).toEqual(
      expect.arrayContaining(['init', 'encode', 'generate', 'bench generate', 'bench soak', 'inspect', 'train']),
    );
    for (const { cmd, path: p } of commands) {
      const help = helpOf(cmd);
      const where = `nsynth ${p.join(' ')}`.trim();
      expect(help, where).toMatch(/\nExamples:\n {2}\$ nsynth /);
      const examples = examplesOf(help);
      expect(examples.length, where).toBeGreaterThanOrEqual(1);
      for (const args of examples) {
        if (args.includes('--help')) continue; // `nsynth encode --help` prints rather than runs
        // A leaf's examples run that command itself; a parent's run one of its own commands.
        const ran = await parse(args);
        if (cmd.commands.length === 0) expect(ran, `nsynth ${args.join(' ')}`).toBe(p.join(' '));
        else expect(ran.startsWith(p.join(' ')), `nsynth ${args.join(' ')}`).toBe(true);
      }
    }
  });

  it('every command refuses an unknown option and excess arguments', async () => {
    for (const { cmd, path: p } of leaves) {
      const [example] = examplesOf(helpOf(cmd));
      const unknown = await commanderError([...example, '--no-such-option']);
      expect(unknown.code, p.join(' ')).toBe('commander.unknownOption');
      expect(unknown.message).toMatch(/unknown option '--no-such-option'/);
      // Three more operands than any command takes, straight after the command's name.
      const excess = await commanderError([...p, 'one', 'two', 'three', ...example.slice(p.length)]);
      expect(excess.code, p.join(' ')).toBe('commander.excessArguments');
    }
  });
});

describe('nsynth errors and --version', () => {
  it('--version prints the version in package.json', async () => {
    const version = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../package.json'), 'utf8')).version;
    const r = await nsynth(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('an error is one line naming the problem, a usage error names the help to read; --verbose adds the stack', async () => {
    const absent = path.join(__dirname, 'no-such-note.wav');
    const plain = await nsynth(['encode', absent, '--out', '/tmp/nsynth-never.npy']);
    expect(plain.status).toBe(1);
    expect(plain.stderr).toBe(`nsynth: ${absent}: cannot read (ENOENT)\n`);
    const unknown = await nsynth(['encode', absent, '--out', '/tmp/nsynth-never.npy', '--colour']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe("nsynth: unknown option '--colour' (see nsynth encode --help)\n");
    const excess = await nsynth(['bench', 'soak', 'extra']);
    expect(excess.status).toBe(1);
    expect(excess.stderr).toMatch(/^nsynth: too many arguments for 'soak'.* \(see nsynth bench soak --help\)\n$/);
    for (const r of [
      await nsynth(['--verbose', 'encode', absent, '--out', '/tmp/nsynth-never.npy']),
      await nsynth(['encode', absent, '--out', '/tmp/nsynth-never.npy'], {
        env: { ...process.env, NSYNTH_DEBUG: '1' },
      }),
    ]) {
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^nsynth: .*no-such-note\.wav: cannot read \(ENOENT\)\nError: /);
      expect(r.stderr).toMatch(/\n {4}at .*listNotes/);
    }
  });
});
