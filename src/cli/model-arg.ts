// `--model DIR` or `--model random:CONFIG` (a randomly initialised model, for speed measurements
// before any trained weights exist).
import type { Engine } from '../gpu/engine.js';
import { loadModel, randomModel } from '../api.js';
import type { NSynthModel } from '../model/model.js';

export async function openModel(engine: Engine, spec: string, seed = 0): Promise<NSynthModel> {
  const m = /^random:(.+)$/.exec(spec);
  if (m) return randomModel(engine, m[1], seed);
  return loadModel(engine, spec);
}
