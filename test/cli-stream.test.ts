// `nsynth generate --out -`: raw s16le on stdout as it is generated, the same samples as the WAV
// the same seed writes, nothing but audio on stdout, a clean exit when the reader goes away, and
// the underruns a real-time player would have had.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlaybackClock } from '../src/cli/stream-out.js';
import { encodeWav } from '../src/formats/wav.js';
import { BIN, nsynth, nsynthOk } from './cli-run.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-stream-'));
const note = path.join(tmp, 'note.wav');
fs.writeFileSync(note, encodeWav(Float32Array.from({ length: 4096 }, (_, t) => 0.4 * Math.sin(t / 6))));

/** Runs nsynth with stdout as bytes; `onData` may stop reading (and close the pipe). */
function runBytes(
  args: string[],
  onData?: (chunk: Buffer, stdout: NodeJS.ReadableStream & { destroy(): void }) => void,
): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      onData?.(d, child.stdout);
    });
    child.stdout.on('error', () => {}); // our end closed on purpose
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr: err }));
  });
}

describe('PlaybackClock', () => {
  it('counts one underrun each time the audio falls behind the wall clock after the prebuffer', () => {
    // 10 samples a second, a prebuffer of 5
    const clock = new PlaybackClock(10, 5);
    clock.arrive(3, 0); // buffering
    clock.arrive(3, 5); // 6 >= 5: plays from t = 5
    clock.arrive(4, 5.5); // played 5 of 6: in time
    expect(clock.underruns).toBe(0);
    clock.arrive(5, 7); // played 10 of 10 at t = 6: dry until now; waits for 5 more (it has them)
    expect(clock.underruns).toBe(1);
    clock.arrive(5, 7.4); // restarted at 7: 4 played of 5
    clock.arrive(1, 9); // dry again
    expect(clock.underruns).toBe(2);
    clock.arrive(100, 9.1); // a big chunk
    clock.arrive(1, 15); // 100 samples last until t = 19: in time
    expect(clock.underruns).toBe(2);
    // Faster than real time from the start: never an underrun.
    const fast = new PlaybackClock(16000, 8000);
    for (let i = 0; i < 100; i++) fast.arrive(4096, i * 0.1);
    expect(fast.underruns).toBe(0);
  });
});

describe('nsynth generate --out -', () => {
  it('streams the samples the same seed writes to a WAV, header-less, only audio on stdout', async () => {
    const args = [
      'generate',
      '--model',
      'random:tiny',
      '--input',
      note,
      '--seconds',
      '0.256',
      '--seed',
      '11',
      '--quiet',
    ];
    const wav = path.join(tmp, 'same.wav');
    await nsynthOk([...args, '--out', wav]);
    const r = await runBytes([...args, '--out', '-', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(4096 * 2); // 8 frames of 512 samples, 2 bytes each
    const file = fs.readFileSync(wav);
    expect(file.subarray(36, 44).toString('latin1', 0, 4)).toBe('data');
    expect(r.stdout.equals(file.subarray(44))).toBe(true);
    // --json goes to stderr (stdout is the audio): what was streamed and how a player fared
    const json = JSON.parse(r.stderr.slice(r.stderr.indexOf('{'), r.stderr.lastIndexOf('}') + 1));
    expect(json).toMatchObject({ format: 's16le', files: [{ file: '-', samples: 4096 }], ended: 'end' });
    expect(json.underruns).toBeGreaterThanOrEqual(0);
    expect(json.realtimeFactor).toBeGreaterThan(0);
    expect(json.prebufferSeconds).toBe(0.5);
    const human = await runBytes([...args, '--out', '-', '--prebuffer', '0.05']);
    expect(human.stdout.equals(r.stdout)).toBe(true);
    expect(human.stderr).toMatch(
      /nsynth: streamed 4096 samples \(0\.26 s of s16le 16 kHz mono\) in [\d.]+ s: [\d.]+x real time, \d+ underruns? after a 0\.05 s prebuffer/,
    );
  });

  it('stops cleanly (exit 0) when the reader closes the pipe', async () => {
    const args = ['generate', '--model', 'random:tiny', '--input', note, '--seconds', '600', '--out', '-', '--quiet'];
    let closed = false;
    const r = await runBytes(args, (_, stdout) => {
      if (!closed) stdout.destroy(); // the player quits after the first chunk
      closed = true;
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/nsynth: the reader closed the stream after \d+ samples .*; stopped/);
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });

  it('takes one voice and no --float; refused before any work', async () => {
    const base = ['generate', '--model', 'random:tiny', '--input', note, '--out', '-'];
    const batch = await nsynth([...base, '--batch', '2']);
    expect(batch.status).toBe(1);
    expect(batch.stderr).toMatch(/nsynth: --out - streams one voice: --batch must be 1, got 2/);
    const float = await nsynth([...base, '--float']);
    expect(float.stderr).toMatch(/nsynth: --out - streams 16-bit PCM \(s16le\); --float is for WAV files/);
    const folder = await nsynth(['generate', '--model', 'random:tiny', '--input', tmp, '--out', '-']);
    expect(folder.stderr).toMatch(/--out - streams one voice: --input .* is a folder/);
  });
});
