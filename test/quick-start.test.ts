// The README's first command, `npm run demo` (tools/demo.mjs after the set-up and the build): a
// bundled note reconstructed by the default model into a folder, with the original, the
// reconstruction and their rainbowgram, and the adapter and the speed printed. Run here on the
// built library (npm test builds first) with a short length; its mistakes are one line, exit 1.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { readWav16k } from '../src/formats/wav.js';
import { runNode } from './cli-run.js';

const ROOT = path.resolve(__dirname, '..');
const DEMO = path.join(ROOT, 'tools/demo.mjs');
const built = fs.existsSync(path.join(ROOT, 'dist/src/index.js'));
const hasModel = fs.existsSync(path.join(ROOT, 'weights/default/manifest.json'));

describe('npm run demo (tools/demo.mjs)', () => {
  it('reconstructs a bundled note into original, reconstruction and rainbowgram, and says how fast', async (ctx) => {
    if (!built || !hasModel) {
      console.warn('quick-start test skipped: dist/ is not built (npm run build) or weights/default is missing');
      ctx.skip();
    }
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-demo-'));
    const r = await runNode([DEMO, '--note', 'brass_acoustic_006-060-100', '--seconds', '0.25', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^nsynth: --seconds 0\.25 is 4000 samples: rounded to 8 frames of 512, 4096 samples \(0\.256 s\)$/m,
    );
    expect(r.stdout).toMatch(/^adapter: \S/m);
    expect(r.stdout).toMatch(/^model: .*weights[/\\]default \(h32_pitch, \d+ training steps\)$/m);
    expect(r.stdout).toMatch(/^note: brass_acoustic_006-060-100 \(0\.256 s, MIDI 60\)$/m);
    expect(r.stdout).toMatch(/^speed: \d+ samples\/s, \d+\.\d+x real time$/m);
    const name = 'brass_acoustic_006-060-100';
    const original = readWav16k(path.join(out, `${name}-original.wav`));
    const recon = readWav16k(path.join(out, `${name}-reconstruction.wav`));
    const bundled = readWav16k(path.join(ROOT, 'examples/notes', `${name}.wav`));
    expect(original.length).toBe(4096);
    expect(Math.max(...original.map((v, i) => Math.abs(v - bundled[i])))).toBeLessThan(1e-4);
    expect(recon.length).toBe(4096);
    const rms = Math.sqrt(recon.reduce((s, v) => s + v * v, 0) / recon.length);
    expect(rms).toBeGreaterThan(1e-3); // not silent
    expect(r.stdout).toContain(`reconstruction: RMS ${rms.toFixed(3)}`);
    const png = decode(fs.readFileSync(path.join(out, `${name}-rainbowgram.png`)));
    expect(png.width).toBeGreaterThan(100);
    expect(png.height).toBeGreaterThan(100);
    for (const f of ['original.wav', 'reconstruction.wav', 'rainbowgram.png'])
      expect(r.stdout).toContain(`${name}-${f}`);
  });

  it('--help prints the usage; a bad option, note or seed is one line and exit 1', async () => {
    const help = await runNode([DEMO, '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^npm run demo \[-- --note NAME\]/);
    for (const [args, message] of [
      [['--bogus'], /^demo: Unknown option '--bogus' \(npm run demo -- --help\)$/],
      [['--note', 'kazoo_001-060-100'], /^demo: no bundled note "kazoo_001-060-100"; choose one of: /],
      [['--seed', '1.5'], /^demo: --seed must be a whole number 0 or more, got "1\.5"$/],
      [['--seed', '-3'], /^demo: Option '--seed' argument is ambiguous\. .* \(npm run demo -- --help\)$/],
      [['--seconds', '9'], /^demo: --seconds must be above 0 and at most 4/],
    ] as const) {
      const r = await runNode([DEMO, ...args]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toEqual([expect.stringMatching(message)]);
    }
  });
});
