// nsynth-webgpu: the NSynth WaveNet autoencoder on WGSL compute kernels.
export { createEngine, Engine, type EngineOptions } from './gpu/engine.js';
export type { AdapterDescription, DeviceOptions } from './gpu/device.js';
export { Tensor, type DType } from './gpu/tensor.js';
export { loadModel, loadWeights, randomModel, modelFromWeights } from './api.js';
export { NSynthModel, type RunOptions, type DecodeOptions, type ModelOptions } from './model/model.js';
export { CONFIGS, getConfig, decoderReceptiveField, encoderReach, type ModelConfig } from './model/config.js';
export { Weights, weightSpecs, initWeights, parameterCount, type TensorSpec, type InitOptions } from './model/weights.js';
export type { HostTensor, LengthPolicy } from './model/inputs.js';
export { encodeReference, teacherForcedLogitsReference } from './model/reference.js';
export { MU_LAW_EDGES, MU_LAW_DECODE_TABLE, muLawQuantizeArray, muLawDecodeReference } from './ops/mulaw.js';
export { encodeWeights, parseManifest, decodeWeights, type Manifest } from './io/weights-file.js';
export type { EmbeddingInput } from './model/model.js';
export { naiveGenerate, type NaiveOptions } from './generate/naive.js';
export { choosePath, dispatchesPerStep, type GenerateOptions, type GenerateProgress, type AudioChunk, type GenerationPath } from './generate/fast.js';
export { uniform01, sampleCategorical } from './generate/sampling.js';
