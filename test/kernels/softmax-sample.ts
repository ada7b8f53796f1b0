// A test harness for kernels/lib_sample_categorical.wgsl, the sampler inside the generator's head:
// test/kernels/softmax_sample.wgsl draws from given logits, so the draws can be compared with the
// reference (src/ops/sample-categorical.ts) one by one and in distribution. It ships nowhere: the
// engine made here reads test/kernels/ before the package's kernels/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as url from 'node:url';
import { createEngine, type Engine } from '../../src/gpu/engine.js';
import type { Dispatch } from '../../src/gpu/registry.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import { expectNumel } from '../../src/ops/common.js';

export interface SampleOptions {
  seed: number;
  temperature: number;
  /** RNG counters of row r: voice = voice0 + r*voiceStep, step = step0 + r*stepStep. */
  voice0?: number;
  voiceStep?: number;
  step0?: number;
  stepStep?: number;
  /** Every row samples logits row 0. */
  broadcast?: boolean;
}

export async function softmaxSample(
  engine: Engine,
  logits: Tensor,
  classes: Tensor,
  o: SampleOptions,
): Promise<Dispatch> {
  const rows = classes.numel;
  if (logits.shape[logits.shape.length - 1] !== 256)
    throw new Error(`softmaxSample: logits shape [${logits.shape}] must end in 256`);
  if (!o.broadcast) expectNumel('softmaxSample', 'logits', logits, rows * 256);
  const rowsPerY = Math.min(rows, 65535);
  const k = await engine.kernel('softmax_sample');
  return k.prepare(
    {
      params: {
        rows,
        seed: o.seed >>> 0,
        temperature: o.temperature,
        voice0: o.voice0 ?? 0,
        voice_step: o.voiceStep ?? 0,
        step0: o.step0 ?? 0,
        step_step: o.stepStep ?? 0,
        broadcast: o.broadcast ? 1 : 0,
        rows_per_y: rowsPerY,
      },
      logits: logits.binding,
      classes: classes.binding,
    },
    [rowsPerY, Math.ceil(rows / rowsPerY)],
  );
}

const here = path.dirname(url.fileURLToPath(import.meta.url));
const folders = [here, path.join(here, '..', '..', 'kernels')];

/** An engine whose kernels come from test/kernels/ first, then the package's kernels/. */
export function harnessEngine(): Promise<Engine> {
  return createEngine({
    kernelSource: (name) => {
      for (const dir of folders) {
        const file = path.join(dir, `${name}.wgsl`);
        if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8');
      }
      throw new Error(`No kernel named "${name}" in ${folders.join(' or ')}`);
    },
  });
}
