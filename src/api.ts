// The public entry points shared by Node and the browser.
import type { Engine } from './gpu/engine.js';
import { getConfig, type ModelConfig } from './model/config.js';
import { NSynthModel, type ModelOptions } from './model/model.js';
import { initWeights, type InitOptions, type Weights } from './model/weights.js';
import { fetchWeights } from './io/weights-fetch.js';

function isUrl(s: string): boolean {
  return /^(https?|file|blob|data):/i.test(s) || typeof window !== 'undefined';
}

/** Loads a weights folder (manifest.json + weights.bin) from a path (Node) or a URL. */
export async function loadWeights(pathOrUrl: string): Promise<Weights> {
  if (isUrl(pathOrUrl) && !pathOrUrl.startsWith('file:')) return fetchWeights(pathOrUrl);
  const { readWeightsDir } = await import('./io/weights-node.js');
  const path = pathOrUrl.startsWith('file:') ? new URL(pathOrUrl).pathname : pathOrUrl;
  return readWeightsDir(path);
}

/** Loads a model and uploads its weights to the engine's device. */
export async function loadModel(engine: Engine, pathOrUrl: string, options: ModelOptions = {}): Promise<NSynthModel> {
  return NSynthModel.create(engine, await loadWeights(pathOrUrl), options);
}

/** A randomly initialised model (Magenta's initialisation, seeded). */
export async function randomModel(engine: Engine, config: string | ModelConfig, seed: number, options: ModelOptions & InitOptions = {}): Promise<NSynthModel> {
  const c = typeof config === 'string' ? getConfig(config) : config;
  return NSynthModel.create(engine, initWeights(c, seed, options), options);
}

/** A model from weights already in memory. */
export function modelFromWeights(engine: Engine, weights: Weights, options: ModelOptions = {}): Promise<NSynthModel> {
  return NSynthModel.create(engine, weights, options);
}
