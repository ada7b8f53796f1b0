// The experiments runner and the report: pairs join different instruments, the summaries follow
// from the rows, noise sits beside the models, and the report folder is whole and replaces only an
// earlier report. Also the multi-scale spectral distance.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { multiScaleSpectralDistance } from '../src/dsp/spectral.js';
import type { EvalNote } from '../src/eval/evaluate.js';
import { noiseSubject, runExperiments, timbrePairs, wavenetSubject } from '../src/eval/experiments.js';
import { writeReport } from '../src/eval/report.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { modelFromWeights } from '../src/nsynth.js';
import { testEngine } from './helpers.js';

const SR = 16000;
function toneNote(instrument: string, pitch: number, n = 4096): EvalNote {
  const hz = 440 * 2 ** ((pitch - 69) / 12);
  return {
    name: `${instrument}-${String(pitch).padStart(3, '0')}-100`,
    pitch,
    audio: Float32Array.from({ length: n }, (_, i) => 0.4 * Math.sin((2 * Math.PI * hz * i) / SR)),
  };
}

describe('multi-scale spectral distance', () => {
  it('is 0 for the same note, symmetric, and grows with the difference', () => {
    const a = toneNote('x', 60).audio;
    const b = toneNote('x', 62).audio;
    const c = toneNote('x', 72).audio;
    expect(multiScaleSpectralDistance(a, a)).toBe(0);
    expect(multiScaleSpectralDistance(a, b)).toBeCloseTo(multiScaleSpectralDistance(b, a), 10);
    expect(
      multiScaleSpectralDistance(
        a,
        Float32Array.from(a, (v) => v * 0.99),
      ),
    ).toBeLessThan(multiScaleSpectralDistance(a, c));
  });
});

describe('experiments and report', () => {
  it('pairs each note with the nearest-pitched note of another instrument', () => {
    const notes = [toneNote('flute_a', 60), toneNote('flute_a', 62), toneNote('reed_b', 61), toneNote('reed_b', 70)];
    expect(timbrePairs(notes, 5)).toEqual([
      [0, 2],
      [1, 3],
    ]);
    expect(timbrePairs(notes, 1)).toEqual([[0, 2]]);
  });

  it('runs the three experiments for a model and noise and writes a whole report that replaces only a report', async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny_pitch'), 8, { biasScale: 0.1 }));
    const notes = [toneNote('flute_a', 60), toneNote('reed_b', 60), toneNote('flute_a', 64), toneNote('reed_b', 65)];
    const stages: string[] = [];
    const r = await runExperiments([wavenetSubject(model, 'tiny random'), noiseSubject(1)], notes, {
      seconds: 0.25,
      keep: 1,
      onStage: (who, stage) => stages.push(`${who}: ${stage}`),
    });
    expect(stages).toEqual([
      'tiny random: reconstruction',
      'tiny random: timbre interpolation',
      'tiny random: pitch',
      'mu-law noise: reconstruction',
      'mu-law noise: timbre interpolation',
    ]);
    expect(r.seconds).toBe(3584 / SR); // whole 512-sample frames within 0.25 s
    expect(r.pairs).toEqual([
      [0, 1],
      [2, 3],
    ]);
    const [wn, noise] = r.subjects;
    expect(wn.reconstruction.rows.length).toBe(4);
    expect(wn.pitch?.rows.length).toBe(8); // 4 notes x shifts -2, +2
    expect(noise.pitch).toBeNull();
    expect(noise.reconstruction.summary.meanBitsPerSample).toBe(8);
    // the summary follows from the rows
    const rows = wn.reconstruction.rows;
    expect(rows.every((x) => x.originalF0 > 0)).toBe(true);
    const within = rows.filter((x) => x.f0ErrorCents !== null && Math.abs(x.f0ErrorCents) <= 50).length;
    expect(wn.reconstruction.summary.within50Cents).toBe(within / 4);
    expect(wn.reconstruction.summary.meanBitsPerSample).toBeCloseTo(
      rows.reduce((s, x) => s + (x.bitsPerSample ?? 0), 0) / 4,
      10,
    );
    for (const x of rows) expect(x.multiScaleSpectralDistance).toBeGreaterThan(0);

    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-report-'));
    const dir = path.join(root, 'report');
    const files = writeReport(dir, r, { data: 'test tones', adapter: e.adapter.name });
    for (const f of files) expect(fs.existsSync(f), f).toBe(true);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
    expect(json.subjects.map((s: { label: string }) => s.label)).toEqual(['tiny random', 'mu-law noise']);
    expect(json.subjects[0].reconstruction.summary).toEqual(wn.reconstruction.summary);
    const md = fs.readFileSync(path.join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/\| tiny random \| \d+% of 4 \|/);
    expect(md).toMatch(/!\[Reconstruction: flute_a-060-100\]\(pictures\/reconstruction-flute_a-060-100\.png\)/);
    const png = decode(fs.readFileSync(path.join(dir, 'pictures', 'reconstruction-flute_a-060-100.png')));
    expect(png.width).toBeGreaterThan(400);
    expect(fs.readFileSync(path.join(dir, 'report.html'), 'utf8')).toMatch(
      /<audio controls preload="none" src="audio\//,
    );
    // an earlier report is replaced; an unrelated folder is not
    writeReport(dir, r, { data: 'again', adapter: e.adapter.name });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')).data).toBe('again');
    const precious = path.join(root, 'precious');
    fs.mkdirSync(precious);
    fs.writeFileSync(path.join(precious, 'thesis.txt'), 'mine');
    expect(() => writeReport(precious, r, { data: 'x', adapter: 'y' })).toThrow(
      /not an nsynth eval report .*thesis\.txt/,
    );
    expect(fs.readdirSync(precious)).toEqual(['thesis.txt']);
    model.dispose();
  });
});
