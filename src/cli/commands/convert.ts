// `nsynth convert`: Magenta's TF checkpoint, a tfjs model or our weights -> our weights (or tfjs), with a
// progress bar over bytes; the output folder is written atomically.
import { Command } from 'commander';
import { convertToWeights, readNameMap } from '../../convert/convert.js';
import { writeTfjsWeights } from '../../convert/tfjs.js';
import { writeTfjsGraph, type TfjsGraphExport } from '../../convert/tfjs-graph.js';
import { buildTfjsGraph, TFJS_GRAPH_PARTS, type TfjsGraphPart } from '../../graph/tfjs-graph.js';
import { waveNetWeights } from '../../model/weights.js';
import { writeWeightsDir } from '../../formats/weights-node.js';
import { writeDirAtomic, writeFileAtomic } from '../../formats/atomic-write.js';
import { assertReplaceable } from '../../formats/output-folder.js';
import { examples, int } from '../options.js';
import { progressBar } from '../output.js';

export interface ConvertCliOptions {
  out: string;
  ema?: boolean;
  dtype: string;
  map?: string;
  to: string;
  part?: string;
  layersPerStage?: number;
  quiet?: boolean;
  /** Replace a weights folder that holds a trained model (refused without it). */
  overwrite?: boolean;
}

export async function runConvert(input: string, o: ConvertCliOptions): Promise<string> {
  if (o.dtype !== 'f32' && o.dtype !== 'f16') throw new Error(`--dtype must be f32 or f16, got ${o.dtype}`);
  if (o.to !== 'nsynth' && o.to !== 'tfjs' && o.to !== 'tfjs-graph')
    throw new Error(`--to must be nsynth, tfjs or tfjs-graph, got ${o.to}`);
  if (o.part !== undefined && o.to !== 'tfjs-graph') throw new Error('--part is for --to tfjs-graph');
  const part = (o.part ?? 'autoencoder') as TfjsGraphPart;
  if (!TFJS_GRAPH_PARTS.includes(part)) throw new Error(`--part must be ${TFJS_GRAPH_PARTS.join(', ')}, got ${o.part}`);
  // --out may replace only a model folder of ours (or an empty one), a trained one only with
  // --overwrite: checked before any work, and again just before the rename (writeDirAtomic).
  const mayReplace = (dir: string) => assertReplaceable(dir, '--out', { overwriteTrained: o.overwrite });
  mayReplace(o.out);
  const bar = progressBar('converting |{bar}| {percentage}% | {value}/{total} MB', o);
  let started = false;
  const { weights, report } = await convertToWeights(input, {
    ema: o.ema,
    map: o.map ? readNameMap(o.map) : undefined,
    layersPerStage: o.layersPerStage,
    onProgress: (done, total) => {
      if (!bar) return;
      if (!started) {
        bar.start(Math.ceil(total / 1e6), 0);
        started = true;
      }
      bar.update(Math.round(done / 1e6));
    },
  });
  bar?.stop();
  const meta = { convertedFrom: report.source, kind: report.kind, ema: !!o.ema };
  let graph: TfjsGraphExport | null = null;
  if (o.to === 'tfjs-graph') {
    const built = await buildTfjsGraph(waveNetWeights(weights, input), part);
    writeDirAtomic(
      o.out,
      (tmp) => {
        graph = writeTfjsGraph(tmp, weights, built, { dtype: o.dtype as 'f32' | 'f16', writeFile: writeFileAtomic });
      },
      mayReplace,
    );
  } else if (o.to === 'tfjs') {
    writeDirAtomic(
      o.out,
      (tmp) => writeTfjsWeights(tmp, weights, { dtype: o.dtype as 'f32' | 'f16', writeFile: writeFileAtomic }),
      mayReplace,
    );
  } else {
    writeDirAtomic(o.out, (tmp) => writeWeightsDir(tmp, weights, o.dtype as 'f32' | 'f16', meta), mayReplace);
  }
  const skipped = report.skipped
    ? `; skipped ${report.skipped.optimizer.length} optimizer slots, ${report.skipped.ema.length + report.skipped.raw.length} ${o.ema ? 'raw variables' : 'EMA shadows'}${report.skipped.other.length ? `, ${report.skipped.other.length} other tensors` : ''}`
    : '';
  const kind =
    o.to === 'tfjs-graph'
      ? `tfjs GraphModel of the ${part}`
      : o.to === 'tfjs'
        ? 'tfjs weights manifest'
        : 'nsynth weights';
  const io = graph
    ? `; inputs ${signatureText((graph as TfjsGraphExport).inputs)}, outputs ${signatureText((graph as TfjsGraphExport).outputs)}`
    : '';
  return `wrote ${o.out} (${kind}, ${o.dtype}): config ${report.config}, ${report.tensors} tensors from ${report.kind} ${report.source}${skipped}${io}`;
}

function signatureText(infos: TfjsGraphExport['inputs']): string {
  return Object.entries(infos)
    .map(([k, t]) => `${k} ${t.dtype === 'DT_INT32' ? 'int32' : 'float32'} [${t.shape.map((d) => (d < 0 ? '?' : d))}]`)
    .join(', ');
}

export function convertCommand(): Command {
  return new Command('convert')
    .description(
      "convert Magenta's TensorFlow checkpoint or a TensorFlow.js model into our weights (or our weights out to tfjs)",
    )
    .argument('<input>', 'checkpoint prefix / .index / folder, tfjs model folder or model.json, or a weights folder')
    .requiredOption('--out <dir>', 'output folder (written atomically)')
    .option('--ema', 'take the ExponentialMovingAverage shadows instead of the raw variables')
    .option('--dtype <dtype>', 'stored precision: f32 or f16', 'f32')
    .option('--map <file>', 'JSON object mapping source tensor names (or "graph node:input") to ours')
    .option(
      '--to <format>',
      'output format: nsynth (our weights), tfjs (weights manifest + shards) or tfjs-graph (a GraphModel tfjs runs)',
      'nsynth',
    )
    .option('--part <part>', 'with --to tfjs-graph: encoder, decoder or autoencoder (default autoencoder)')
    .option(
      '--layers-per-stage <n>',
      'dilation stage length, when it is not 10 (it is not stored in checkpoints)',
      int('--layers-per-stage', 1),
    )
    .option('--overwrite', '--out may replace a weights folder that holds a trained model (refused otherwise)')
    .option('--quiet', 'no progress bar')
    .addHelpText(
      'after',
      examples(
        'nsynth convert wavenet-ckpt/model.ckpt-200000 --ema --out weights/magenta-h512',
        'nsynth convert weights/magenta-h512 --to tfjs --dtype f16 --out tfjs/h512',
        'nsynth convert weights/default --to tfjs-graph --part decoder --out tfjs/default-decoder',
      ),
    )
    .action(async (input: string, o: ConvertCliOptions) => {
      console.log(await runConvert(input, o));
    });
}
