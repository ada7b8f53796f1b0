// `nsynth inspect`: every tensor of a TF checkpoint, tfjs model or weights folder with its checksum
// status; exits 1 when any tensor (or the data file as a whole) fails its check.
import { Command } from 'commander';
import { inspect } from '../../convert/inspect.js';
import { examples } from '../options.js';

export async function runInspect(p: string, json: boolean): Promise<number> {
  const r = await inspect(p);
  const problems = r.problems ?? [];
  const failures = r.rows.filter((x) => x.crc.startsWith('error')).length + problems.length;
  if (json) {
    console.log(JSON.stringify({ ...r, failures }, null, 1));
  } else {
    console.log(`${r.kind}: ${r.path}${r.header ? `  ${JSON.stringify(r.header)}` : ''}`);
    const w = Math.min(90, Math.max(4, ...r.rows.map((x) => x.name.length)));
    for (const x of r.rows)
      console.log(
        `${x.name.padEnd(w)}  ${x.dtype.padEnd(8)} ${`[${x.shape.join(', ')}]`.padEnd(22)} ` +
          `${String(x.bytes).padStart(10)}  ${x.crc}${x.extra ? `  ${x.extra}` : ''}`,
      );
    for (const p of problems) console.log(`error: ${p}`);
    console.log(`${r.rows.length} tensors, ${r.rows.reduce((n, x) => n + x.bytes, 0)} bytes, ${failures} failures`);
  }
  return failures;
}

export function inspectCommand(): Command {
  return new Command('inspect')
    .description(
      'list every tensor of a TF checkpoint, tfjs model or weights folder (name, dtype, shape, bytes, CRC status)',
    )
    .argument('<path>', 'checkpoint prefix / .index / folder, tfjs model folder or model.json, or a weights folder')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples('nsynth inspect weights/default', 'nsynth inspect wavenet-ckpt/model.ckpt-200000 --json'),
    )
    .action(async (p: string, o: { json?: boolean }) => {
      const failures = await runInspect(p, !!o.json);
      if (failures > 0) throw new Error(`${p}: ${failures} tensor(s) or file(s) fail their checks`);
    });
}
