// `nsynth eval --data DIR`: a model's reconstructions of NSynth notes, measured per note and in
// summary (bits per sample, f0 error, log-spectral distance); `--json` for scripts. With
// `--out REPORT_DIR`, the paper's three experiments for every `--model` (and plain noise beside
// them) written as a report with rainbowgrams and audio.
import { Command, Option } from 'commander';
import { openNoteSource } from '../../dataset/nsynth.js';
import * as path from 'node:path';
import { BaselineModel } from '../../autoencoder/baseline.js';
import { evaluateNoise, evaluateNotes, type EvalNote, type EvalRow, type EvalSummary } from '../../eval/evaluate.js';
import { baselineSubject, noiseSubject, runExperiments, type Subject, wavenetSubject } from '../../eval/experiments.js';
import { replaceableReport, writeReport } from '../../eval/report.js';
import { examples, int, num, openBaseline, openModel, withEngine, MAX_SEED, MAX_SECONDS } from '../options.js';
import { progressBar } from '../output.js';

interface EvalFlags {
  data: string;
  stride: number;
  model: string[];
  out?: string;
  pairs?: number;
  pictures: number;
  griffinLim: number;
  notes?: number;
  seconds?: number;
  batch: number;
  seed: number;
  temperature: number;
  json?: boolean;
  quiet?: boolean;
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('reconstruct NSynth notes and measure them: bits per sample, f0 error (cents), log-spectral distance')
    .requiredOption('--data <path>', 'NSynth notes: a folder with examples.json (+ audio/), or a .tfrecord file')
    .addOption(
      new Option('--model <dir>', 'weights folder, random:CONFIG or noise; repeat it to compare models in a report')
        .argParser((v: string, list: string[]) => [...list, v])
        .default([], 'the shipped weights/default'),
    )
    .option(
      '--out <dir>',
      'write a report of the three experiments (reconstruction, timbre and pitch interpolation) here',
    )
    .option('--pairs <n>', 'report: timbre pairs (default: half the notes)', int('--pairs', 0))
    .option('--pictures <n>', 'report: notes and pairs drawn as rainbowgrams, with audio', int('--pictures', 0, 20), 3)
    .option(
      '--griffin-lim <rounds>',
      "report: Griffin-Lim rounds rebuilding a spectrogram baseline's audio (the paper: 1000)",
      int('--griffin-lim', 0, 100000),
      1000,
    )
    .addHelpText(
      'after',
      '\n--model noise measures plain mu-law noise instead of a model (8 bits per sample): the floor to beat.',
    )
    .option('--notes <n>', 'evaluate only the first N notes (in name order)', int('--notes', 1))
    .option(
      '--stride <k>',
      'take every K-th note in name order (before --notes): a spread across instruments',
      int('--stride', 1),
      1,
    )
    .option(
      '--seconds <s>',
      'evaluate the first S seconds of each note (default: whole notes)',
      num('--seconds', 0, MAX_SECONDS, true),
    )
    .option('--batch <n>', 'notes generated together', int('--batch', 1, 4096), 8)
    .option('--seed <n>', 'random seed of the sampling', int('--seed', 0, MAX_SEED), 0)
    .option(
      '--temperature <t>',
      "softmax temperature of the reconstructions' sampling (1 = Magenta, 0 = argmax)",
      num('--temperature', 0),
      1,
    )
    .option('--json', 'print JSON: the model, every note and the summary')
    .option('--quiet', 'no progress bar or stage messages')
    .addHelpText(
      'after',
      examples(
        'nsynth eval --data ../shared/data/nsynth --model random:tiny --notes 4 --seconds 0.5',
        'nsynth eval --data nsynth-valid/ --model weights/default --model weights/baseline-small --stride 10 --out report/',
        'nsynth eval --data nsynth-valid/ --model noise --json',
      ),
    )
    .action(async (o: EvalFlags, cmd: Command) => {
      const source = openNoteSource(o.data);
      try {
        const order = source.notes.map((n, i) => ({ n, i })).sort((a, b) => a.n.noteStr.localeCompare(b.n.noteStr));
        // Every K-th note (a spread across instruments), then the first N of those.
        const strided = order.filter((_, i) => i % o.stride === 0);
        const chosen = strided.slice(0, o.notes ?? strided.length);
        const notes = chosen.map(({ n, i }) => ({ name: n.noteStr, pitch: n.pitch, audio: source.audio(i) }));
        if (o.out) {
          await writeEvalReport(cmd, o, notes, source.where);
          return;
        }
        if (o.model.length > 1) throw new Error('several --model need --out REPORT_DIR (a report compares them)');
        const spec = o.model[0];
        if (openBaseline(spec, o.seed))
          throw new Error(`--model ${spec} is a spectrogram baseline: evaluate it with --out REPORT_DIR (the report)`);
        if (spec === 'noise') {
          report(o, source.where, 'none (host)', evaluateNoise(notes, { seconds: o.seconds, seed: o.seed }));
          return;
        }
        await withEngine(cmd, async (engine) => {
          const model = await openModel(engine, spec, o.seed);
          const bar = progressBar('evaluating |{bar}| {value}/{total} notes | ETA {eta_formatted}', o);
          try {
            bar?.start(notes.length, 0);
            const result = await evaluateNotes(model, notes, {
              seconds: o.seconds,
              batch: o.batch,
              seed: o.seed,
              temperature: o.temperature,
              onNote: (done) => bar?.update(done),
            });
            bar?.stop();
            report(o, source.where, engine.adapter.name, result);
          } finally {
            bar?.stop();
            model.dispose();
          }
        });
      } finally {
        source.close();
      }
    });
}

function report(
  o: EvalFlags,
  data: string,
  adapter: string,
  { rows, summary }: { rows: EvalRow[]; summary: EvalSummary },
): void {
  if (o.json) {
    console.log(
      JSON.stringify(
        { model: o.model[0] ?? 'weights/default', adapter, data, temperature: o.temperature, notes: rows, summary },
        null,
        1,
      ),
    );
    return;
  }
  const w = Math.max(4, ...rows.map((r) => r.note.length));
  const pitchUse = summary.meanPitchUseBits !== null;
  console.log(
    `${'note'.padEnd(w)}  pitch  bits/sample  f0 error (cents)  clarity (original)  log-spectral distance (dB)${pitchUse ? '  pitch use (bits)' : ''}`,
  );
  for (const r of rows) {
    const f0 =
      r.f0ErrorCents === null ? (r.originalF0 > 0 ? 'no f0 in output' : 'no f0 in input') : r.f0ErrorCents.toFixed(0);
    const use = r.pitchUseBits === null ? '' : `  ${r.pitchUseBits.toFixed(3).padStart(16)}`;
    console.log(
      `${r.note.padEnd(w)}  ${String(r.pitch).padStart(5)}  ${r.bitsPerSample.toFixed(3).padStart(11)}  ${f0.padStart(16)}  ${`${r.clarity.toFixed(2)} (${r.originalClarity.toFixed(2)})`.padStart(18)}  ${r.logSpectralDistance.toFixed(2).padStart(26)}${use}`,
    );
  }
  console.log(
    `${summary.notes} note${summary.notes === 1 ? '' : 's'} (${adapter}): ${(100 * summary.within50Cents).toFixed(0)}% ` +
      `(${Math.round(summary.within50Cents * summary.clearF0)}) within 50 cents, of the ${summary.clearF0} whose original has a clear f0; median clarity ${summary.medianClarity.toFixed(2)} (originals ${summary.medianOriginalClarity.toFixed(2)}); median log-spectral distance ${summary.medianLogSpectralDistance.toFixed(2)} dB; ` +
      `${summary.meanBitsPerSample.toFixed(3)} bits per sample` +
      (pitchUse
        ? `; the pitch input saves ${summary.meanPitchUseBits!.toFixed(3)} bits per sample (against an octave away)`
        : ''),
  );
}

/** The three experiments for every --model, plus mu-law noise as the floor, written as a report. */
async function writeEvalReport(cmd: Command, o: EvalFlags, notes: EvalNote[], data: string): Promise<void> {
  const out = o.out as string;
  replaceableReport(out); // before minutes of work, not after
  const specs = o.model.length ? o.model : [undefined];
  await withEngine(cmd, async (engine) => {
    const models: { dispose(): void }[] = [];
    try {
      const subjects: Subject[] = [];
      for (const spec of specs) {
        if (spec === 'noise') continue;
        const baseline = openBaseline(spec, o.seed);
        if (baseline && spec) {
          const model = new BaselineModel(engine, baseline);
          models.push(model);
          const label = spec.startsWith('random:') ? spec : `${spec} (${baseline.config.name})`;
          subjects.push(baselineSubject(model, label, { iterations: o.griffinLim, seed: o.seed, batch: o.batch }));
          continue;
        }
        const model = await openModel(engine, spec, o.seed);
        models.push(model);
        const label = `${spec ?? 'weights/default'}${spec?.startsWith('random:') ? '' : ` (${model.config.name})`}`;
        subjects.push(wavenetSubject(model, label, { batch: o.batch, seed: o.seed, temperature: o.temperature }));
      }
      subjects.push(noiseSubject(o.seed));
      const t0 = performance.now();
      const results = await runExperiments(subjects, notes, {
        seconds: o.seconds,
        pairs: o.pairs,
        keep: o.pictures,
        onStage: o.json || o.quiet ? undefined : (who, stage) => process.stderr.write(`eval: ${who}: ${stage}\n`),
      });
      const files = writeReport(out, results, {
        data,
        adapter: engine.adapter.name,
        notes: `Baseline audio by Griffin-Lim, ${o.griffinLim} rounds, at each original's peak level.`,
      });
      const s = (performance.now() - t0) / 1000;
      if (o.json) console.log(JSON.stringify({ report: out, files }, null, 1));
      else
        console.log(
          `wrote ${path.join(out, 'report.html')} and report.md (${files.length} files) in ${s.toFixed(0)} s (${engine.adapter.name})`,
        );
    } finally {
      for (const m of models) m.dispose();
    }
  });
}
