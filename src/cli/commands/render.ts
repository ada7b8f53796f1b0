// `nsynth render`: bulk rendering as a shardable, resumable batch job (src/render/), and
// `--plan grid.json` to expand an instruments x pitches x mixes grid into a jobs file.
import { Command, Option } from 'commander';
import { planGrid } from '../../render/grid.js';
import { render } from '../../render/render.js';
import { parseShard, type Shard, shardFromEnv } from '../../render/shard.js';
import type { GenerationPath } from '../../generate/types.js';
import { defaultModelDir, examples, int, withEngine } from '../options.js';
import { floatOption, wavDepth } from '../audio.js';
import { notice, printJson, progressBar } from '../output.js';

interface RenderFlags {
  jobs?: string;
  plan?: string;
  out?: string;
  shard: string;
  batch: string;
  model?: string;
  path: GenerationPath;
  float?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function batchOf(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  return int('--batch', 1, 4096)(text);
}

export function renderCommand(): Command {
  return new Command('render')
    .description(
      'render a jobs file (one JSON job per line: notes or embeddings, mix, pitch, seed, seconds) into DIR, ' +
        'a shard at a time, skipping outputs already done; or --plan a grid into a jobs file',
    )
    .option('--jobs <jobs.jsonl>', 'the jobs file (with --plan: the one to write)')
    .option(
      '--plan <grid.json>',
      'expand this grid (sets of 1, 2 or 4 notes x pitches x mix points) into --jobs, then stop',
    )
    .option('--out <dir>', 'output folder: <id[0:2]>/<id>.wav and .json per job, shards/<i>-of-<N>.json summaries')
    .option(
      '--shard <i/N|auto>',
      "render jobs k with k mod N = i; 'auto': NSYNTH_SHARD, a Kubernetes Indexed Job (JOB_COMPLETION_INDEX + NSYNTH_SHARD_COUNT) or a Slurm array (SLURM_ARRAY_TASK_ID)",
      '0/1',
    )
    .option('--batch <n|auto>', "voices generated together ('auto': as many as fit the adapter's memory)", 'auto')
    .option('--model <dir>', 'weights folder (default: the shipped weights/default)')
    .addOption(
      new Option('--path <path>', "generation kernels, the same for every batch ('auto': the measured rules)")
        .choices(['auto', 'layered', 'fused', 'voice-loop', 'voice-lanes'])
        .default('auto'),
    )
    .addOption(floatOption())
    .option('--json', "print the shard's summary as JSON")
    .option('--quiet', 'no progress bar')
    .addHelpText(
      'after',
      examples(
        'nsynth render --plan examples/scale/grid.json --jobs /tmp/grid.jsonl',
        'nsynth render --jobs /tmp/grid.jsonl --out renders/ --shard 3/16 --batch 32',
        'SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=16 nsynth render --jobs jobs.jsonl --out renders/ --shard auto',
      ),
    )
    .action(async (o: RenderFlags, cmd: Command) => {
      if (o.plan) {
        if (!o.jobs) throw new Error('--plan writes a jobs file: give --jobs FILE');
        const n = planGrid(o.plan, o.jobs);
        if (o.json) printJson({ grid: o.plan, jobs: o.jobs, count: n });
        else console.log(`wrote ${n} jobs to ${o.jobs}`);
        return;
      }
      if (!o.jobs) throw new Error('give --jobs jobs.jsonl (or --plan grid.json --jobs jobs.jsonl to make one)');
      if (!o.out) throw new Error('give --out DIR');
      const shard: Shard = o.shard === 'auto' ? shardFromEnv() : parseShard(o.shard);
      const batch = batchOf(o.batch);
      // Preemption (SIGTERM) and Ctrl-C stop after the batch in progress; a second signal stops at
      // once, dropping that batch. Whatever was written is complete either way.
      const stopAfterBatch = new AbortController();
      const stopNow = new AbortController();
      const onSignal = (what: string) => {
        if (!stopAfterBatch.signal.aborted) {
          notice(
            `${what}: stopping after the batch in progress (again to stop now; outputs written so far are complete)`,
          );
          stopAfterBatch.abort();
        } else {
          notice(`${what} again: stopping now; the batch in progress is dropped`);
          stopNow.abort();
        }
      };
      const onInt = () => onSignal('interrupted');
      const onTerm = () => onSignal('terminated');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      const bar = progressBar('rendering |{bar}| {value}/{total} jobs | {rate} samples/s | ETA {eta_formatted}', o);
      try {
        const summary = await withEngine(cmd, (engine) =>
          render(engine, {
            jobsFile: o.jobs!,
            outDir: o.out!,
            shard,
            batch,
            modelDir: o.model ?? defaultModelDir(),
            path: o.path,
            depth: wavDepth(o),
            stop: stopAfterBatch.signal,
            signal: stopNow.signal,
            onLog: (line) => notice(line),
            onProgress: (p) => {
              if (p.finished === 0 || !bar) return;
              if (bar.getTotal() !== p.total) bar.start(p.total, 0, { rate: '-' });
              bar.update(p.finished, { rate: p.samplesPerSecond.toFixed(0) });
            },
          }),
        );
        bar?.stop();
        if (o.json) printJson(summary);
        else {
          const j = summary.jobs;
          console.log(
            `shard ${summary.shard.label}: ${j.rendered} rendered, ${j.skipped} already done, ${j.failed} failed` +
              `${j.rerendered ? `, ${j.rerendered} damaged and rendered again` : ''} of ${j.inShard} jobs; ` +
              `${summary.samplesPerSecond.toFixed(0)} samples/s (${summary.adapter}, ${summary.path}, batch ${summary.batch})`,
          );
        }
        if (!summary.complete) process.exitCode = 130;
        else if (summary.jobs.failed > 0) {
          notice(`${summary.jobs.failed} jobs failed (reasons in the shard's summary under ${o.out}/shards/)`);
          process.exitCode = 1;
        }
      } finally {
        bar?.stop();
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
      }
    });
}
