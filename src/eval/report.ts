// The evaluation report: the experiments' numbers as Markdown and HTML tables (and JSON), with
// rainbowgrams of originals, reconstructions, morphs and pitch shifts, and their audio to listen to.
// Written as one folder, atomically; an existing folder is replaced only if it is an earlier report.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDirAtomic } from '../formats/atomic-write.js';
import { encodeWav } from '../formats/wav.js';
import { mixWaveforms } from '../model/interpolate.js';
import type { ExperimentResults, SubjectResult } from './experiments.js';
import { rainbowgramFigure } from './figure.js';

export const REPORT_GENERATED_BY = 'nsynth-webgpu eval';

export interface ReportContext {
  /** What the notes are (a folder), the adapter, and anything else worth recording (free text). */
  data: string;
  adapter: string;
  notes?: string;
}

/** Refuses to replace a folder that is not empty and not an earlier report of ours. */
export function replaceableReport(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`--out ${dir} exists and is not a folder`);
  }
  if (!names.length) return;
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
    if (meta?.generatedBy === REPORT_GENERATED_BY) return;
  } catch {
    // not a report of ours
  }
  throw new Error(
    `--out ${dir} exists and is not an nsynth eval report (it holds ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}); choose another folder, or remove it first`,
  );
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const fix = (x: number | null, d = 2) => (x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
const slug = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');

interface Table {
  head: string[];
  rows: string[][];
}

function tables(r: ExperimentResults): { title: string; note: string; table: Table }[] {
  const S = r.subjects;
  const out = [
    {
      title: 'Reconstruction',
      note: "Each note encoded and decoded. f0: median YIN f0 of the output within 50 cents of the original's (of notes with a clear f0). LSD: log-spectral distance (dB, n_fft 1024). MSSD: multi-scale spectral distance (FFT 2048 to 64; magnitudes and their logs). NLL: teacher-forced bits per sample (WaveNet models; 8 = a uniform guess).",
      table: {
        head: ['model', 'f0 within 50 cents', 'median LSD (dB)', 'median MSSD', 'NLL (bits/sample)', 'time (s)'],
        rows: S.map((s) => {
          const m = s.reconstruction.summary;
          return [
            s.label,
            `${pct(m.within50Cents)} of ${m.clearF0}`,
            fix(m.medianLogSpectralDistance),
            fix(m.medianMultiScaleSpectralDistance),
            fix(m.meanBitsPerSample, 3),
            fix(s.reconstruction.seconds, 1),
          ];
        }),
      },
    },
    {
      title: 'Timbre interpolation',
      note: "Pairs of notes of different instruments, nearest in pitch; their encodings mixed at 0.5 and decoded. Pitch kept: the morph's f0 within 50 cents of a parent's. LSD to the nearer parent, and to the plain waveform mix (a morph that merely overlays the two notes is close to it).",
      table: {
        head: [
          'model',
          'pitch kept',
          'median LSD to nearer parent (dB)',
          'median LSD to waveform mix (dB)',
          'time (s)',
        ],
        rows: S.map((s) => {
          const m = s.interpolation.summary;
          return [
            s.label,
            `${pct(m.keepsPitch)} of ${m.judged}`,
            fix(m.medianLsdToNearerParent),
            fix(m.medianLsdToWaveformMix),
            fix(s.interpolation.seconds, 1),
          ];
        }),
      },
    },
  ];
  const pitched = S.filter((s) => s.pitch);
  if (pitched.length)
    out.push({
      title: 'Pitch',
      note: "Each note re-decoded with its pitch input shifted (models with a pitch input). Within 50 cents of the original's f0 moved by the shift.",
      table: {
        head: ['model', 'shifts', 'f0 within 50 cents of the target', 'time (s)'],
        rows: pitched.map((s) => [
          s.label,
          [...new Set(s.pitch!.rows.map((x) => x.shift))].map((x) => (x > 0 ? `+${x}` : `${x}`)).join(', '),
          `${pct(s.pitch!.summary.within50Cents)} of ${s.pitch!.summary.clear}`,
          fix(s.pitch!.seconds, 1),
        ]),
      },
    });
  return out;
}

function markdownTable(t: Table): string {
  return [
    `| ${t.head.join(' | ')} |`,
    `|${t.head.map(() => '---').join('|')}|`,
    ...t.rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function htmlEscape(s: string): string {
  return s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function htmlTable(t: Table): string {
  return `<table><tr>${t.head.map((h) => `<th>${htmlEscape(h)}</th>`).join('')}</tr>${t.rows
    .map((r) => `<tr>${r.map((c) => `<td>${htmlEscape(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

interface Picture {
  title: string;
  png: string;
  audio: { label: string; wav: string }[];
}

/** Writes the report folder: report.md, report.html, report.json, pictures/ and audio/. Returns its files. */
export function writeReport(dir: string, r: ExperimentResults, ctx: ReportContext): string[] {
  const written: string[] = [];
  writeDirAtomic(
    dir,
    (tmp) => {
      fs.mkdirSync(path.join(tmp, 'pictures'));
      fs.mkdirSync(path.join(tmp, 'audio'));
      const wav = (name: string, a: Float32Array) => {
        fs.writeFileSync(path.join(tmp, 'audio', name), encodeWav(a, 16000, '16')); // 16-bit: half the size, for listening
        return `audio/${name}`;
      };
      const pictures: Picture[] = [];
      const picture = (file: string, title: string, panels: { title: string; audio: Float32Array; wav: string }[]) => {
        fs.writeFileSync(path.join(tmp, 'pictures', file), rainbowgramFigure(panels));
        pictures.push({
          title,
          png: `pictures/${file}`,
          audio: panels.map((p) => ({ label: p.title, wav: wav(p.wav, p.audio) })),
        });
      };
      const kept = r.subjects[0]?.kept.reconstructions.length ?? 0;
      for (let i = 0; i < kept; i++) {
        const n = r.notes[i];
        picture(`reconstruction-${slug(n.name)}.png`, `Reconstruction: ${n.name}`, [
          { title: `original: ${n.name}`, audio: n.audio, wav: `${slug(n.name)}.wav` },
          ...r.subjects.map((s, k) => ({
            title: s.label,
            audio: s.kept.reconstructions[i],
            wav: `${slug(n.name)}-recon-${k}.wav`,
          })),
        ]);
      }
      const keptPairs = r.subjects[0]?.kept.morphs.length ?? 0;
      for (let p = 0; p < keptPairs; p++) {
        const [i, j] = r.pairs[p];
        const [a, b] = [r.notes[i], r.notes[j]];
        const mix = mixWaveforms(a.audio, b.audio, 0.5);
        picture(`interpolation-${p}.png`, `Timbre interpolation: ${a.name} and ${b.name} at 0.5`, [
          { title: `A: ${a.name}`, audio: a.audio, wav: `pair${p}-a.wav` },
          { title: `B: ${b.name}`, audio: b.audio, wav: `pair${p}-b.wav` },
          { title: 'waveform mix 0.5', audio: mix, wav: `pair${p}-waveform-mix.wav` },
          ...r.subjects.map((s, k) => ({
            title: `${s.label}: morph 0.5`,
            audio: s.kept.morphs[p],
            wav: `pair${p}-morph-${k}.wav`,
          })),
        ]);
      }
      const pitched = r.subjects.filter((s) => s.kept.shifted.length);
      if (pitched.length) {
        const n = r.notes[0];
        picture(`pitch-${slug(n.name)}.png`, `Pitch: ${n.name} re-decoded with its pitch shifted`, [
          { title: `original: ${n.name}`, audio: n.audio, wav: `${slug(n.name)}-original.wav` },
          ...pitched.flatMap((s, k) =>
            s.kept.shifted.map((x) => ({
              title: `${s.label}: pitch ${x.shift > 0 ? '+' : ''}${x.shift}`,
              audio: x.audio,
              wav: `${slug(n.name)}-shift${x.shift}-${k}.wav`,
            })),
          ),
        ]);
      }
      const sections = tables(r);
      const intro = [
        `${r.notes.length} notes from ${ctx.data}, the first ${r.seconds.toFixed(2)} s of each; ${r.pairs.length} timbre pairs.`,
        `Adapter: ${ctx.adapter}.${ctx.notes ? ` ${ctx.notes}` : ''}`,
      ];
      const md = [
        '# Evaluation report',
        '',
        ...intro,
        '',
        ...sections.flatMap((s) => [`## ${s.title}`, '', s.note, '', markdownTable(s.table), '']),
        '## Pictures and audio',
        '',
        'Rainbowgrams (constant-Q; brightness = log magnitude over 70 dB, colour = instantaneous frequency).',
        '',
        ...pictures.flatMap((p) => [
          `### ${p.title}`,
          '',
          `![${p.title}](${p.png})`,
          '',
          p.audio.map((a) => `[${a.label}](${a.wav})`).join(' · '),
          '',
        ]),
      ].join('\n');
      const html = [
        '<!doctype html><meta charset="utf-8"><title>nsynth eval report</title>',
        '<style>body{font-family:sans-serif;max-width:72em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}img{max-width:100%}.clip{display:inline-block;margin:.2em 1em .2em 0}</style>',
        '<h1>Evaluation report</h1>',
        ...intro.map((p) => `<p>${htmlEscape(p)}</p>`),
        ...sections.map((s) => `<h2>${htmlEscape(s.title)}</h2><p>${htmlEscape(s.note)}</p>${htmlTable(s.table)}`),
        '<h2>Pictures and audio</h2><p>Rainbowgrams (constant-Q; brightness = log magnitude over 70 dB, colour = instantaneous frequency).</p>',
        ...pictures.map(
          (p) =>
            `<h3>${htmlEscape(p.title)}</h3><img src="${p.png}" alt="${htmlEscape(p.title)}"><div>${p.audio
              .map(
                (a) =>
                  `<span class="clip">${htmlEscape(a.label)}<br><audio controls preload="none" src="${a.wav}"></audio></span>`,
              )
              .join('')}</div>`,
        ),
      ].join('\n');
      const json = {
        generatedBy: REPORT_GENERATED_BY,
        data: ctx.data,
        adapter: ctx.adapter,
        seconds: r.seconds,
        notes: r.notes.map((n) => ({ name: n.name, pitch: n.pitch })),
        pairs: r.pairs.map(([i, j]) => [r.notes[i].name, r.notes[j].name]),
        subjects: r.subjects.map(({ kept: _kept, ...s }: SubjectResult) => s),
      };
      fs.writeFileSync(path.join(tmp, 'report.md'), `${md}\n`);
      fs.writeFileSync(path.join(tmp, 'report.html'), `${html}\n`);
      fs.writeFileSync(path.join(tmp, 'report.json'), `${JSON.stringify(json, null, 1)}\n`);
      for (const f of ['report.md', 'report.html', 'report.json']) written.push(f);
      for (const p of pictures) written.push(p.png, ...p.audio.map((a) => a.wav));
    },
    replaceableReport,
  );
  return written.map((f) => path.join(dir, f));
}
