// `nsynth bench ...`: the benchmarks in src/bench/, each naming the adapter and measuring its
// ceilings in the same run.
import { Command, Option } from 'commander';
import { configConvShapes, runConvTilesBench } from '../../bench/conv-tiles.js';
import { getConfig } from '../../model/config.js';
import { runForwardBench } from '../../bench/forward.js';
import { printGenerateTable, runGenerateBench } from '../../bench/generate.js';
import { runGenerateBenchInBrowser, type BrowserAdapter } from '../../bench/browser.js';
import { runTrainBench } from '../../bench/train.js';
import { runTfjsGraphBench, TFJS_BACKENDS, TFJS_GRAPH_TOLERANCE, type TfjsBackend } from '../../bench/tfjs-graph.js';
import { runSoak } from '../../bench/soak.js';
import type { Engine } from '../../gpu/engine.js';
import type { GenerationPath } from '../../generate/types.js';
import { parseFusedShape } from '../../generate/tuning.js';
import type { FusedShape } from '../../ops/gen-step.js';
import {
  benchConfigName,
  defaultModelDir,
  examples,
  int,
  intList,
  modelOption,
  num,
  openModel,
  withEngine,
  MAX_SECONDS,
} from '../options.js';
import { printJson } from '../output.js';
import { runInfo } from '../run-info.js';

/**
 * Runs a benchmark and, with --json, prints its result with the provenance every row carries
 * (package version, git commit, Node, adapter, start time). The benchmarks in src/bench/ print their
 * own table with console.log (they run with json: false): under --json that table is for people, so it
 * goes to stderr, and stdout holds the JSON alone.
 */
async function runBench<T extends object>(
  cmd: Command,
  json: boolean | undefined,
  run: (engine: Engine) => Promise<T>,
): Promise<T> {
  return withEngine(cmd, async (engine) => {
    if (!json) return run(engine);
    const info = runInfo(engine.adapter.name);
    const log = console.log;
    console.log = console.error;
    let result: T;
    try {
      result = await run(engine);
    } finally {
      console.log = log;
    }
    printJson(withRunInfo(result, info));
    return result;
  });
}

/** The result with `info` on every row (and at the top of an object result). */
export function withRunInfo(result: object, info: object): object {
  const tag = (row: unknown) => (row && typeof row === 'object' ? { ...row, ...info } : row);
  if (Array.isArray(result)) return result.map(tag);
  const rows = (result as { rows?: unknown }).rows;
  return { ...info, ...result, ...(Array.isArray(rows) ? { rows: rows.map(tag) } : {}) };
}

const JSON_HELP =
  'print JSON instead of a table (the table goes to stderr); every row carries the version, git commit, Node, adapter and time';

function forward(): Command {
  return new Command('forward')
    .description("encoder and teacher-forced decoder throughput, with the adapter's own ceilings")
    .option('--config <names>', 'comma-separated configs', 'tiny,h512_bo16')
    .option('--seconds <s>', 'audio length per run', num('--seconds', 0, MAX_SECONDS, true), 1)
    .option('--batch <n>', 'notes per batch', int('--batch', 1, 4096), 1)
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'nsynth bench forward --config tiny --seconds 0.5',
        'nsynth bench forward --config tiny,h512_bo16 --json',
      ),
    )
    .action(async (o: { config: string; seconds: number; batch: number; json?: boolean }, cmd: Command) => {
      await runBench(cmd, o.json, (engine) =>
        runForwardBench(engine, {
          configs: o.config.split(',').map(benchConfigName),
          seconds: o.seconds,
          batch: o.batch,
          json: false, // runBench prints the JSON, with the run's provenance
        }),
      );
    });
}

function generate(): Command {
  return new Command('generate')
    .description('fast generation speed per batch, against the naive generator in the same run')
    .option('--config <name>', "model config ('default': the shipped default model)", 'tiny')
    .option('--model <dir>', 'measure this weights folder instead of a random model of --config')
    .addOption(
      new Option('--batch <list>', 'comma-separated batch sizes')
        .argParser(intList('--batch', 1, 4096))
        .default([1, 4, 16], '1,4,16'),
    )
    .option('--seconds <s>', 'audio generated per batch size', num('--seconds', 0, MAX_SECONDS, true), 0.25)
    .option('--naive-steps <n>', 'samples the naive generator makes (it is slow)', int('--naive-steps', 1), 8)
    .addOption(
      new Option(
        '--browser [adapter]',
        "run it in headless Chromium instead of Node: on SwiftShader, or on the adapter Chromium picks itself ('default')",
      ).choices(['swiftshader', 'default']),
    )
    .option('--chromium <path>', 'the Chromium binary for --browser (default: $CHROMIUM_PATH, else /usr/bin/chromium)')
    .addOption(
      new Option(
        '--path <path>',
        "force the generation kernels (default 'auto': the rules, or the kernels timed once for this adapter)",
      ).choices(['auto', 'layered', 'fused', 'voice-loop', 'voice-lanes']),
    )
    .addOption(
      new Option(
        '--weights <storage>',
        "the weight storage of the fused and layered paths ('auto': f16 where the adapter has shader-f16; the layered path's other storage is timed against it)",
      ).choices(['auto', 'f32', 'f16']),
    )
    .option(
      '--fused-shape <shape>',
      "force the fused path's workgroup shape, in the kernels column's words after the storage: outputs x split, a voice tile, the rows layout ('16x16', '16x16v4', 'rows:8x32'); implies --path fused",
      fusedShapeArg,
    )
    .option(
      '--peers [list]',
      "also time the same generation written with TensorFlow.js and TypeScript: 'all' (default) or some of tfjs-webgpu,tfjs-wasm,cpu-ts",
    )
    .option(
      '--peer-seconds <s>',
      'seconds each peer may take per batch size (a longer run is shortened and says so)',
      num('--peer-seconds', 0, 3600, true),
      60,
    )
    .option(
      '--plot <file.png>',
      'also draw samples/s against batch with the adapter ceilings (an SVG is written beside it)',
    )
    .option(
      '--profile',
      "after each batch, time every dispatch of one step on the GPU (the adapter's timestamp queries), per kernel",
    )
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'nsynth bench generate --config tiny --batch 1,4,16 --seconds 0.25',
        'nsynth bench generate --config default --batch 1 --seconds 1 --json',
        'nsynth bench generate --config tiny --batch 1,4 --seconds 0.25 --browser',
        'nsynth bench generate --config h512_bo16 --batch 1,16 --seconds 0.032 --naive-steps 1 --path fused --weights f16',
        'nsynth bench generate --config tiny --batch 1,2,4,8 --plot gen.png',
        'nsynth bench generate --config h512_bo16 --batch 1 --seconds 0.032 --naive-steps 1 --profile',
        'nsynth bench generate --config h512_bo16 --batch 1,16 --seconds 0.032 --naive-steps 1 --peers tfjs-webgpu,tfjs-wasm',
      ),
    )
    .action(
      async (
        o: {
          config: string;
          model?: string;
          batch: number[];
          seconds: number;
          naiveSteps: number;
          browser?: true | BrowserAdapter;
          chromium?: string;
          path?: GenerationPath;
          weights?: 'auto' | 'f32' | 'f16';
          fusedShape?: FusedShape;
          plot?: string;
          profile?: boolean;
          peers?: true | string;
          peerSeconds: number;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        if (o.fusedShape && o.path !== undefined && o.path !== 'fused' && o.path !== 'auto')
          throw new Error(`--fused-shape is the fused path's: it cannot go with --path ${o.path}`);
        const path = o.fusedShape ? 'fused' : o.path;
        // `--config default` measures the shipped default model itself.
        const config = benchConfigName(o.config);
        const model = o.model ?? (o.config === 'default' ? defaultModelDir() : undefined);
        if (o.browser && o.profile)
          throw new Error('--profile times dispatches in Node: Chromium rounds its GPU timestamps (to 100 us)');
        if (o.browser) {
          // Chromium brings its own WebGPU: no engine in Node, and the rows name Chrome's adapter.
          const rows = await runGenerateBenchInBrowser({
            config,
            model,
            batches: o.batch,
            seconds: o.seconds,
            naiveSteps: o.naiveSteps,
            chromium: o.chromium,
            adapter: o.browser === true ? 'swiftshader' : o.browser,
            path,
            weightStorage: o.weights,
            fusedShape: o.fusedShape,
          });
          if (o.json) printJson(withRunInfo(rows, runInfo(rows[0]?.adapter ?? 'Chromium')));
          else printGenerateTable(rows, o.seconds);
          return;
        }
        await runBench(cmd, o.json, (engine) =>
          runGenerateBench(engine, {
            config,
            model,
            batches: o.batch,
            seconds: o.seconds,
            naiveSteps: o.naiveSteps,
            json: false, // runBench prints the JSON, with the run's provenance
            path,
            weightStorage: o.weights,
            fusedShape: o.fusedShape,
            plot: o.plot,
            profile: !!o.profile,
            peers: o.peers === undefined ? undefined : o.peers === true ? ['all'] : o.peers.split(','),
            peerBudgetSeconds: o.peerSeconds,
          }),
        );
      },
    );
}

/** --fused-shape: a shape in the words of the kernels column, else a usage error naming the forms. */
function fusedShapeArg(v: string): FusedShape {
  const shape = parseFusedShape(v);
  if (!shape)
    throw new Error(
      `--fused-shape must be outputs x split (powers of two, outputs at least 4, at most 256 threads: outputs x split, or 4x that in rows), then optionally a voice tile of 1-8 voices (at most the split) and the rows layout, as '16x16', '16x16v4' or 'rows:8x32'; got "${v}"`,
    );
  return shape;
}

function train(): Command {
  return new Command('train')
    .description('training samples/s (forward + backward + Adam) per config, against the forward pass alone')
    .option('--config <list>', 'comma-separated configs', 'tiny,h512_bo16')
    .option('--batch <n>', 'crops per step', int('--batch', 1, 4096), 1)
    .option('--crop <samples>', 'crop length (Magenta: 6144)', int('--crop', 1), 6144)
    .option('--steps <n>', 'timed steps per config (best reported)', int('--steps', 1), 2)
    .option('--profile', "time each dispatch of a step on the GPU (the adapter's timestamp queries), per kernel")
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'nsynth bench train --config tiny --steps 2',
        'nsynth bench train --config default --batch 16 --profile',
        'nsynth bench train --config baseline_small --batch 2 --json',
      ),
    )
    .action(
      async (
        o: { config: string; batch: number; crop: number; steps: number; profile?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        await runBench(cmd, o.json, (engine) =>
          runTrainBench(engine, {
            configs: o.config.split(',').map(benchConfigName),
            batch: o.batch,
            crop: o.crop,
            steps: o.steps,
            profile: !!o.profile,
            json: false, // runBench prints the JSON, with the run's provenance
          }),
        );
      },
    );
}

function convTiles(): Command {
  return new Command('conv-tiles')
    .description(
      'the variants (wide, narrow tiles; lanes on CPU adapters) of the three convolution kernels, as ms and % of the FMA probe',
    )
    .option('--config <name>', "the distinct convolutions of this config's encoder and decoder (instead of --columns)")
    .option('--rows <n>', 'rows (batch x time)', int('--rows', 1), 4096)
    .option('--reduction <n>', '1x1 convolutions: input channels', int('--reduction', 1), 96)
    .option('--columns <list>', '1x1 convolutions: output channels to try', intList('--columns'), [16, 32, 64, 128])
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'nsynth bench conv-tiles --config tiny --rows 4096',
        'nsynth bench conv-tiles --reduction 96 --columns 16,32,64,128 --json',
      ),
    )
    .action(
      async (
        o: { config?: string; rows: number; reduction: number; columns: number[]; json?: boolean },
        cmd: Command,
      ) => {
        const shapes = o.config
          ? configConvShapes(getConfig(benchConfigName(o.config)), o.rows)
          : o.columns.map((cout) => ({ rows: o.rows, cin: o.reduction, cout, taps: 1, dilation: 1 }));
        await runBench(cmd, o.json, (engine) => runConvTilesBench(engine, { shapes, json: false }));
      },
    );
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('benchmarks (src/bench/): speeds as ratios to baselines measured in the same run')
    .addCommand(forward())
    .addCommand(tfjsGraph())
    .addCommand(generate())
    .addCommand(train())
    .addCommand(convTiles())
    .addCommand(soak())
    .addHelpText(
      'after',
      examples('nsynth bench generate --config tiny --batch 1,4 --seconds 0.25', 'nsynth bench forward --help'),
    );
}

function tfjsGraph(): Command {
  return new Command('tfjs-graph')
    .description(
      'the model exported as a tfjs GraphModel, run by TensorFlow.js on each backend, against our forward pass in the same run',
    )
    .addOption(modelOption())
    .option('--seconds <s>', 'audio per forward pass', num('--seconds', 0, MAX_SECONDS, true), 1)
    .option('--backends <list>', `comma-separated tfjs backends (${TFJS_BACKENDS.join(', ')})`, TFJS_BACKENDS.join(','))
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'nsynth bench tfjs-graph --seconds 0.5',
        'nsynth bench tfjs-graph --model random:h512_bo16 --backends wasm,webgpu --seconds 0.1 --json',
      ),
    )
    .action(async (o: { model?: string; seconds: number; backends: string; json?: boolean }, cmd: Command) => {
      const backends = o.backends.split(',').map((b) => b.trim());
      for (const b of backends)
        if (!(TFJS_BACKENDS as readonly string[]).includes(b))
          throw new Error(`--backends: unknown tfjs backend "${b}" (known: ${TFJS_BACKENDS.join(', ')})`);
      const result = await runBench(cmd, o.json, async (engine) => {
        const model = await openModel(engine, o.model);
        try {
          return await runTfjsGraphBench(engine, {
            model,
            seconds: o.seconds,
            backends: backends as TfjsBackend[],
            json: false, // runBench prints the JSON, with the run's provenance
          });
        } finally {
          model.dispose();
        }
      });
      const off = result.rows.filter((r) => r.logitsError > TFJS_GRAPH_TOLERANCE);
      if (off.length) {
        console.error(
          `nsynth bench tfjs-graph: ${off.map((r) => r.executor).join(', ')} disagree with our logits beyond ` +
            `${TFJS_GRAPH_TOLERANCE} (their speed is not a comparison of the same model)`,
        );
        process.exitCode = 1;
      }
    });
}

function soak(): Command {
  return new Command('soak')
    .description(
      'a long generation and a long training run on one engine, sampling GPU buffers, the pool and RSS: flat after warm-up?',
    )
    .option('--model <dir>', "generating model (default: the shipped default model; 'random:CONFIG' for a random one)")
    .option('--seconds <s>', 'seconds of audio generated', num('--seconds', 0, MAX_SECONDS, true), 60)
    .option('--steps <n>', 'training steps', int('--steps', 1), 10000)
    .option('--train-config <name>', 'config trained', 'tiny')
    .option('--samples <n>', 'samples taken per phase', int('--samples', 2, 10000), 20)
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      examples(
        'nsynth bench soak --model random:tiny --seconds 5 --steps 200 --samples 5',
        'nsynth bench soak --seconds 60 --steps 10000 --json',
      ),
    )
    .action(
      async (
        o: { model?: string; seconds: number; steps: number; trainConfig: string; samples: number; json?: boolean },
        cmd: Command,
      ) => {
        const random = o.model?.startsWith('random:') ? o.model.slice('random:'.length) : null;
        const report = await runBench(cmd, o.json, (engine) =>
          runSoak(engine, {
            model: random ? null : (o.model ?? defaultModelDir()),
            generateConfig: random ?? 'tiny',
            seconds: o.seconds,
            trainConfig: o.trainConfig,
            steps: o.steps,
            samples: o.samples,
            json: false, // runBench prints the JSON, with the run's provenance
          }),
        );
        if (!report.phases.every((p) => p.flat)) process.exitCode = 1;
      },
    );
}
