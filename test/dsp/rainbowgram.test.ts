// Rainbowgram pixels and figures: a 440 Hz tone's brightest row sits at 440 Hz, its colour is one
// colour along the note, and the CLI writes a PNG of the expected size (stacked with --compare).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { rainbowColour, rainbowgram } from '../../src/dsp/rainbowgram.js';
import { figureLayout, rainbowgramFigure } from '../../src/eval/figure.js';
import { encodeWav } from '../../src/formats/wav.js';
import { nsynth, nsynthOk } from '../cli-run.js';

const SR = 16000;
const sine = (hz: number, n: number) =>
  Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / SR));

/** Row (from the top of the plot) whose pixels are brightest in sum, inside a panel's plot area. */
function brightestRow(
  png: ReturnType<typeof decode>,
  at: { left: number; top: number; width: number; height: number },
) {
  let best = -1;
  let bestSum = -1;
  for (let y = 0; y < at.height; y++) {
    let sum = 0;
    for (let x = 0; x < at.width; x++) {
      const p = ((at.top + y) * png.width + at.left + x) * png.channels;
      sum += png.data[p] + png.data[p + 1] + png.data[p + 2];
    }
    if (sum > bestSum) [best, bestSum] = [y, sum];
  }
  return best;
}

describe('rainbowgram', () => {
  it('pixels: a 440 Hz tone is brightest in the row of bin 110 (440 Hz), one colour along the note', () => {
    const r = rainbowgram(sine(440, SR));
    expect([r.width, r.height]).toEqual([63, 240]);
    expect(r.frequencies[110]).toBeCloseTo(440, 6);
    const row = 240 - 1 - 110;
    const at = (t: number, y: number) => Array.from(r.rgba.subarray((y * 63 + t) * 4, (y * 63 + t) * 4 + 3));
    for (let y = 0; y < 240; y++)
      if (y !== row)
        expect(at(31, y)[0] + at(31, y)[1] + at(31, y)[2]).toBeLessThanOrEqual(at(31, row).reduce((a, b) => a + b));
    for (let t = 5; t < 58; t++) expect(at(t, row)).toEqual(at(31, row));
    expect(r.brightness[31 * 240 + 110]).toBeCloseTo(1, 2);
    // the colour map's ends: violet at -1, red at +1
    expect(rainbowColour(0).map((v) => +v.toFixed(3))).toEqual([0.5, 0, 1]);
    expect(rainbowColour(1).map((v) => +v.toFixed(3))).toEqual([1, 0, 0]);
  });

  it('figure: the expected size, and the brightest row of a 440 Hz tone maps back to 440 Hz', () => {
    const png = decode(rainbowgramFigure([{ audio: sine(440, SR), title: '440 Hz' }]));
    const layout = figureLayout([63], 240);
    expect([png.width, png.height]).toEqual([layout.width, layout.height]);
    const at = layout.panels[0];
    const row = brightestRow(png, at);
    const bin = 240 - 1 - Math.floor(row / at.pxPerBin);
    const hz = 65.406 * 2 ** (bin / 40);
    expect(Math.abs(1200 * Math.log2(hz / 440))).toBeLessThan(15); // within half a bin (15 cents)
  });

  it('CLI: writes the PNG, stacks --compare panels, names a missing file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-rainbow-'));
    fs.writeFileSync(path.join(dir, 'a.wav'), encodeWav(sine(440, SR)));
    fs.writeFileSync(path.join(dir, 'b.wav'), encodeWav(sine(220, 2 * SR)));
    const out = path.join(dir, 'out', 'rg.png');
    await nsynthOk(['rainbowgram', path.join(dir, 'a.wav'), '--compare', path.join(dir, 'b.wav'), '--out', out]);
    const png = decode(fs.readFileSync(out));
    const layout = figureLayout([63, 126], 240);
    expect([png.width, png.height]).toEqual([layout.width, layout.height]);
    const second = brightestRow(png, layout.panels[1]);
    expect(240 - 1 - Math.floor(second / 2)).toBe(70); // 220 Hz: an octave (40 bins) below 440
    const r = await nsynth(['rainbowgram', path.join(dir, 'missing.wav'), '--out', path.join(dir, 'x.png')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/missing\.wav: cannot read \(ENOENT\)/);
    expect(fs.existsSync(path.join(dir, 'x.png'))).toBe(false);
  });
});
