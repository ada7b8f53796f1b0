// A very small member of the model family (hop 16), so the whole autoencoder can be differentiated
// numerically and compared op for op between the GPU and the float64 reference.
import type { ModelConfig } from '../src/model/config.js';

export const MICRO: ModelConfig = {
  name: 'micro',
  sampleRate: 16000,
  hop: 16,
  bottleneck: 3,
  filterLength: 3,
  numClasses: 256,
  pitchConditioning: false,
  encoder: { width: 4, stages: 2, layersPerStage: 2 },
  decoder: { residual: 4, skip: 5, stages: 2, layersPerStage: 2 },
};

/** MICRO with the paper's one-hot pitch conditioning. */
export const MICRO_PITCH: ModelConfig = { ...MICRO, name: 'micro_pitch', pitchConditioning: true };
