// Host wrapper for kernels/softmax_sample.wgsl; the reference is src/generate/sampling.ts.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel } from './common.js';

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

export async function softmaxSample(engine: Engine, logits: Tensor, classes: Tensor, o: SampleOptions): Promise<Dispatch> {
  const rows = classes.numel;
  if (logits.shape[logits.shape.length - 1] !== 256) throw new Error(`softmaxSample: logits shape [${logits.shape}] must end in 256`);
  if (!o.broadcast) expectNumel('softmaxSample', 'logits', logits, rows * 256);
  const rowsPerY = Math.min(rows, 65535);
  const k = await engine.kernel('softmax_sample');
  return k.prepare(
    {
      params: {
        rows, seed: o.seed >>> 0, temperature: o.temperature, voice0: o.voice0 ?? 0, voice_step: o.voiceStep ?? 0,
        step0: o.step0 ?? 0, step_step: o.stepStep ?? 0, broadcast: o.broadcast ? 1 : 0, rows_per_y: rowsPerY,
      },
      logits: logits.binding, classes: classes.binding,
    },
    [rowsPerY, Math.ceil(rows / rowsPerY)],
  );
}
