// evaluateNotes (src/eval/evaluate.ts) and `nsynth eval`: per-note measures of a model's
// reconstructions and their summary.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateNoise, evaluateNotes, octaveAway } from '../src/eval/evaluate.js';
import { bitsPerSample } from '../src/dsp/nll.js';
import { muLawQuantizeArray } from '../src/ops/mu-law.js';
import { getConfig } from '../src/model/config.js';
import { initWeights } from '../src/model/weights.js';
import { modelFromWeights } from '../src/nsynth.js';
import { nsynth, nsynthOk, runNode } from './cli-run.js';
import { testEngine } from './helpers.js';

const NSYNTH = path.resolve(__dirname, '../../shared/data/nsynth');

const tone = (hz: number) =>
  Float32Array.from({ length: 4096 }, (_, t) => 0.5 * Math.sin((2 * Math.PI * hz * t) / 16000));

describe('evaluation', () => {
  it("a random model's reconstructions of clear tones: counted, none within 50 cents, about 8+ bits per sample", async () => {
    const e = await testEngine();
    const model = await modelFromWeights(e, initWeights(getConfig('tiny_pitch'), 3));
    const notes = [
      { name: 'a', pitch: 57, audio: tone(220) },
      { name: 'b', pitch: 64, audio: tone(329.63) },
      { name: 'silent', pitch: 60, audio: new Float32Array(4096) },
    ];
    const { rows, summary } = await evaluateNotes(model, notes, { seconds: 0.2, batch: 2 });
    expect(rows.map((r) => [r.note, r.samples])).toEqual([
      ['a', 3072],
      ['b', 3072],
      ['silent', 3072],
    ]);
    expect(rows[0].originalF0).toBeCloseTo(220, 0);
    expect(rows[2].originalF0).toBe(0);
    expect(summary.clearF0).toBe(2);
    // Noise from a random model has no pitch, so it matches none of the tones.
    expect(summary.within50Cents).toBe(0);
    for (const r of rows) {
      expect(r.bitsPerSample).toBeGreaterThan(4);
      expect(r.logSpectralDistance).toBeGreaterThan(0);
    }
    expect(summary.meanBitsPerSample).toBeCloseTo(rows.reduce((s, r) => s + r.bitsPerSample, 0) / 3, 10);
    // Clarity: the pure tones near 1, the random model's noise far below, the silent note 0.
    expect(rows[0].originalClarity).toBeGreaterThan(0.95);
    expect(rows[1].originalClarity).toBeGreaterThan(0.95);
    expect(rows[2].originalClarity).toBe(0);
    for (const r of rows) expect(r.clarity).toBeLessThan(0.6);
    expect(summary.medianOriginalClarity).toBe(
      Math.min(rows[0].originalClarity, rows[1].originalClarity), // the median of the two tones' and 0
    );
    // The pitch input's use: bits with the pitch an octave away minus with the true one.
    const a = rows[0];
    const audio = tone(220).subarray(0, 3072);
    const emb = await model.encode(audio);
    const classes = muLawQuantizeArray(audio).classes;
    const away = await model.teacherForcedLogits(audio, emb, { pitch: 69 });
    expect(a.pitchUseBits).toBeCloseTo(bitsPerSample(away.data, classes, 256) - a.bitsPerSample, 9);
    expect(summary.meanPitchUseBits).toBeCloseTo(rows.reduce((s, r) => s + (r.pitchUseBits as number), 0) / 3, 10);
    expect([octaveAway(60), octaveAway(115), octaveAway(116), octaveAway(127)]).toEqual([72, 127, 104, 115]);
    // The sampling temperature reaches the reconstructions, not the teacher-forced bits; at 0
    // (argmax) the seed no longer matters.
    const coldA = await evaluateNotes(model, notes, { seconds: 0.2, batch: 2, temperature: 0, seed: 1 });
    const coldB = await evaluateNotes(model, notes, { seconds: 0.2, batch: 2, temperature: 0, seed: 9 });
    expect(coldA.rows).toEqual(coldB.rows);
    expect(coldA.rows.map((r) => r.bitsPerSample)).toEqual(rows.map((r) => r.bitsPerSample));
    expect(coldA.rows.map((r) => r.logSpectralDistance)).not.toEqual(rows.map((r) => r.logSpectralDistance));
    await expect(evaluateNotes(model, [])).rejects.toThrow(/no notes/);
    model.dispose();
  });

  it('the mu-law noise floor: 8 bits per sample, no pitch kept, a large spectral distance; reproducible by seed', () => {
    const notes = [
      { name: 'a', pitch: 57, audio: tone(220) },
      { name: 'b', pitch: 64, audio: tone(329.63) },
    ];
    const { rows, summary } = evaluateNoise(notes, { seconds: 0.2 });
    expect(rows.map((r) => r.samples)).toEqual([3072, 3072]);
    expect(summary.meanBitsPerSample).toBe(8);
    expect(summary.clearF0).toBe(2);
    expect(summary.within50Cents).toBe(0);
    for (const r of rows) expect(r.logSpectralDistance).toBeGreaterThan(5);
    // White noise is far from periodic: clarity about 0.2-0.4 against the tones' ~1.
    for (const r of rows) {
      expect(r.clarity).toBeGreaterThan(0.1);
      expect(r.clarity).toBeLessThan(0.5);
      expect(r.originalClarity).toBeGreaterThan(0.95);
    }
    expect(summary.meanPitchUseBits).toBeNull();
    expect(evaluateNoise(notes, { seconds: 0.2 }).rows).toEqual(rows);
    expect(evaluateNoise(notes, { seconds: 0.2, seed: 1 }).rows).not.toEqual(rows);
    expect(() => evaluateNoise([])).toThrow(/no notes/);
  });

  it('`nsynth eval --json` on real notes prints every note and the summary', async (ctx) => {
    if (!fs.existsSync(NSYNTH)) {
      console.warn(`skipped: ${NSYNTH} is absent`);
      ctx.skip();
    }
    const out = await nsynthOk([
      'eval',
      '--data',
      NSYNTH,
      '--model',
      'random:tiny',
      '--notes',
      '2',
      '--seconds',
      '0.128',
      '--json',
    ]);
    const r = JSON.parse(out);
    expect(r.model).toBe('random:tiny');
    expect(r.temperature).toBe(1);
    expect(r.notes.map((n: { note: string }) => n.note)).toEqual([
      'bass_synthetic_033-060-025',
      'brass_acoustic_006-060-100',
    ]);
    for (const n of r.notes) {
      expect(n.pitch).toBe(60);
      expect(n.samples).toBe(2048);
      expect(Number.isFinite(n.bitsPerSample) && Number.isFinite(n.logSpectralDistance)).toBe(true);
    }
    expect(Object.keys(r.summary).sort()).toEqual(
      [
        'clearF0',
        'meanBitsPerSample',
        'meanPitchUseBits',
        'medianClarity',
        'medianLogSpectralDistance',
        'medianOriginalClarity',
        'notes',
        'within50Cents',
      ].sort(),
    );
    expect(r.summary.notes).toBe(2);
    // tiny has no pitch input, so nothing measures its use.
    expect(r.summary.meanPitchUseBits).toBeNull();
    expect(r.notes.every((n: { pitchUseBits: unknown }) => n.pitchUseBits === null)).toBe(true);
    // --model noise: the floor, measured the same way without a GPU model.
    const noise = JSON.parse(
      await nsynthOk(['eval', '--data', NSYNTH, '--model', 'noise', '--notes', '2', '--seconds', '0.128', '--json']),
    );
    expect(noise.model).toBe('noise');
    expect(noise.summary.meanBitsPerSample).toBe(8);
    expect(noise.notes.map((n: { note: string }) => n.note)).toEqual(r.notes.map((n: { note: string }) => n.note));
  });

  it('`nsynth eval --out DIR` writes the report of several models beside noise, and checks the folder first', async (ctx) => {
    if (!fs.existsSync(NSYNTH)) {
      console.warn(`skipped: ${NSYNTH} is absent`);
      ctx.skip();
    }
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-eval-report-'));
    const args = ['eval', '--data', NSYNTH, '--notes', '4', '--seconds', '0.064', '--pictures', '1'];
    const out = path.join(root, 'report');
    const models = ['--model', 'random:tiny', '--model', 'random:tiny_pitch', '--model', 'random:baseline_micro'];
    await nsynthOk([...args, ...models, '--griffin-lim', '2', '--out', out]);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(json.subjects.map((s: { label: string }) => s.label)).toEqual([
      'random:tiny',
      'random:tiny_pitch',
      'random:baseline_micro',
      'mu-law noise',
    ]);
    expect(json.subjects[1].pitch.rows.length).toBe(8);
    expect(json.subjects[2].pitch.rows.length).toBe(8); // the baseline always takes a pitch
    expect(json.subjects[2].reconstruction.summary.meanBitsPerSample).toBeNull();
    expect(fs.readdirSync(path.join(out, 'pictures')).length).toBe(3); // a reconstruction, a pair, the pitch shifts
    // an unrelated folder is refused before any work; several models without --out are refused
    fs.writeFileSync(path.join(root, 'notes.txt'), 'mine');
    const refused = await nsynth([...args, '--model', 'random:tiny', '--out', root]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/is not an nsynth eval report/);
    expect(refused.stderr).not.toMatch(/eval: random:tiny: reconstruction/);
    const two = await nsynth([...args, '--model', 'random:tiny', '--model', 'noise']);
    expect(two.stderr).toMatch(/several --model need --out REPORT_DIR/);
  });

  it('`--stride K` takes every K-th note in name order, before --notes', async (ctx) => {
    if (!fs.existsSync(NSYNTH)) {
      console.warn(`skipped: ${NSYNTH} is absent`);
      ctx.skip();
    }
    const args = ['eval', '--data', NSYNTH, '--model', 'noise', '--seconds', '0.064', '--json'];
    const all = JSON.parse(await nsynthOk(args)).notes.map((n: { note: string }) => n.note);
    const strided = JSON.parse(await nsynthOk([...args, '--stride', '3'])).notes.map((n: { note: string }) => n.note);
    expect(strided).toEqual([all[0], all[3], all[6]]);
    const first = JSON.parse(await nsynthOk([...args, '--stride', '3', '--notes', '2'])).notes;
    expect(first.map((n: { note: string }) => n.note)).toEqual([all[0], all[3]]);
  });

  it('tools/conditioning-use.mjs: the default model loses bits without its embedding, and the table adds up', async (ctx) => {
    if (!fs.existsSync(NSYNTH)) {
      console.warn(`skipped: ${NSYNTH} is absent`);
      ctx.skip();
    }
    const tool = path.resolve(__dirname, '../tools/conditioning-use.mjs');
    const r = await runNode([tool, path.resolve(__dirname, '../weights/default'), NSYNTH, '3', '0.128']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/own\s+zero embedding\s+next note embedding\s+pitch octave away/);
    const rows = lines.slice(1, 4).map((l) => l.trim().split(/\s+/).slice(1).map(Number));
    const mean = lines[4].trim().split(/\s+/).slice(2).map(Number);
    expect(rows.every((row) => row.length === 4 && row.every((v) => v > 0 && v < 20))).toBe(true);
    for (let j = 0; j < 4; j++) expect(mean[j]).toBeCloseTo((rows[0][j] + rows[1][j] + rows[2][j]) / 3, 2);
    // A trained decoder depends on its embedding: a zero one costs it at least a bit per sample.
    expect(mean[1]).toBeGreaterThan(mean[0] + 1);
    const usage = await runNode([tool]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/usage: node tools\/conditioning-use.mjs/);
  });
});
