// nsynth-webgpu/node: what only Node has, kept out of the main entry so that the browser bundle
// (which re-exports it) carries no file system and no resampler: reading and writing WAV files at
// any rate and channel count, and the folders of the models the package ships.
import * as path from 'node:path';
import { packageRoot } from './util/package-root.js';

export {
  decodeWav,
  readWav16k,
  readWavFile,
  readWavResampled,
  writeWav,
  MAX_WAV_BYTES,
  type Audio,
  type ResampledAudio,
} from './formats/wav.js';

/** The models the package ships, by folder name under its `weights/`. */
export type ShippedModel = 'default' | 'baseline-small';

/**
 * The folder of a model the installed package ships (`loadModel(engine, shippedModelPath())` loads
 * the default model from wherever the package is installed, not from the working directory).
 */
export function shippedModelPath(name: ShippedModel = 'default'): string {
  if (name !== 'default' && name !== 'baseline-small')
    throw new Error(`shippedModelPath: no shipped model "${String(name)}" (default, baseline-small)`);
  return path.join(packageRoot(), 'weights', name);
}
