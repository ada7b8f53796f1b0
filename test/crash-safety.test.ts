// SIGKILL at random moments of `nsynth convert` and `nsynth generate`: afterwards the output is either
// absent or complete and valid, and the next run sweeps what the killed ones left behind.
// (Training's checkpoints get the same treatment in train.test.ts.)
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, nsynthOk } from './cli-run.js';
import { writeWeightsDir, readWeightsDir } from '../src/formats/weights-node.js';
import { encodeWav, readWav16k } from '../src/formats/wav.js';
import { initWeights } from '../src/model/weights.js';
import { getConfig } from '../src/model/config.js';
import { Rng } from '../src/util/rng.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-crash-'));

/** Starts `nsynth ARGS`, SIGKILLs it after `ms`, and waits for it to be gone. */
async function killAfter(args: string[], ms: number): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise((r) => setTimeout(r, ms));
  child.kill('SIGKILL');
  await exited;
}

/** What a killed writer may leave beside `target`: `.NAME.tmp-PID`, `.NAME.old-PID`, `NAME.PID.tmp`. */
function leftovers(target: string): string[] {
  const base = path.basename(target);
  return fs
    .readdirSync(path.dirname(target))
    .filter((n) => n.startsWith(`.${base}.tmp-`) || n.startsWith(`.${base}.old-`) || /^.+\.\d+\.tmp$/.test(n));
}

describe('crash safety', () => {
  const rng = new Rng(11);
  const delays = (n: number, lo: number, hi: number) =>
    Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform(0, 1));

  it('convert killed at random moments: the output folder is absent or a complete model, never half', async () => {
    const src = path.join(tmp, 'src');
    writeWeightsDir(src, initWeights(getConfig('h32_pitch'), 3));
    const out = path.join(tmp, 'out');
    let complete = 0;
    for (const ms of delays(10, 150, 1500)) {
      fs.rmSync(out, { recursive: true, force: true }); // each kill judged on its own output
      await killAfter(['convert', src, '--out', out, '--dtype', 'f16', '--quiet'], ms);
      if (fs.existsSync(out)) {
        expect(readWeightsDir(out).config.name).toBe('h32_pitch'); // complete, every checksum right
        complete++;
      }
    }
    // The next run finishes, and sweeps every temporary the killed ones left.
    await nsynthOk(['convert', src, '--out', out, '--dtype', 'f16', '--quiet']);
    expect(readWeightsDir(out).config.name).toBe('h32_pitch');
    expect(leftovers(out)).toEqual([]);
    console.log(`convert: 10 kills, the output complete after ${complete} of them, absent after the others`);
  });

  it('generate killed at random moments: the WAV is absent or whole, and no temporary outlives the next run', async () => {
    const note = path.join(tmp, 'note.wav');
    fs.writeFileSync(note, encodeWav(Float32Array.from({ length: 4096 }, (_, t) => 0.4 * Math.sin(t / 7))));
    const out = path.join(tmp, 'gen.wav');
    const args = ['generate', '--model', 'random:tiny', '--input', note, '--seconds', '0.256', '--out', out, '--quiet'];
    let complete = 0;
    for (const ms of delays(10, 300, 3000)) {
      fs.rmSync(out, { force: true });
      await killAfter(args, ms);
      if (fs.existsSync(out)) {
        expect(readWav16k(out).length).toBe(4096);
        complete++;
      }
    }
    await nsynthOk(args);
    expect(readWav16k(out).length).toBe(4096);
    expect(leftovers(out)).toEqual([]);
    console.log(`generate: 10 kills, the WAV whole after ${complete} of them, absent after the others`);
  });
});
