// nsynth-webgpu: the NSynth WaveNet autoencoder on WGSL compute kernels.
export { createEngine, Engine, PendingRead, type EngineOptions, type ReadRange } from './gpu/engine.js';
export type { AdapterDescription, DeviceOptions } from './gpu/device.js';
export { Tensor, type DType } from './gpu/tensor.js';
export {
  NSynthModel,
  loadModel,
  loadWeights,
  randomModel,
  modelFromWeights,
  type RunOptions,
  type DecodeOptions,
  type ModelOptions,
  type EmbeddingBatch,
} from './nsynth.js';
export { CONFIGS, getConfig, decoderReceptiveField, encoderReach, type ModelConfig } from './model/config.js';
export {
  Weights,
  weightSpecs,
  initWeights,
  parameterCount,
  type TensorSpec,
  type InitOptions,
} from './model/weights.js';
export type { EmbeddingInput, HostTensor, LengthPolicy } from './model/inputs.js';
export { interpolateEmbeddings, mixEmbeddings, mixWaveforms } from './model/interpolate.js';
export { encodeReference, teacherForcedLogitsReference } from './graph/reference.js';
export { encoder, decoder } from './graph/wavenet.js';
export type { GraphOps, ConvOp } from './graph/ops.js';
export { MU_LAW_EDGES, MU_LAW_DECODE_TABLE, muLawQuantizeArray, muLawDecodeReference } from './ops/mu-law.js';
export { encodeWeights, parseManifest, decodeWeights, type Manifest } from './formats/weights-file.js';
export { encodeWav, encodePcm16, toInt16, type WavDepth } from './formats/wav-encode.js';
export { naiveGenerate, type NaiveOptions } from './generate/naive.js';
export { choosePath, dispatchesPerStep } from './generate/route.js';
export type { GenerateOptions, GenerateProgress, AudioChunk, GenerationPath } from './generate/types.js';
export { uniform01, sampleCategorical } from './ops/sample-categorical.js';
export { yinF0, medianF0, f0ErrorCents, cents, midiToHz, type F0Options, type F0Track } from './dsp/f0.js';
export { logSpectralDistance, powerSpectrogram, type StftOptions } from './dsp/spectral.js';
export { bitsPerSample } from './dsp/nll.js';
export {
  stft,
  istft,
  hann,
  power,
  logMagnitudeScale,
  magnitudeFromScaled,
  type Spectrogram,
  type LogMagnitudeOptions,
} from './dsp/stft.js';
export { griffinLim, spectralConvergence, type GriffinLimOptions, type GriffinLimResult } from './dsp/griffin-lim.js';
export { cqt, C2_HZ, type Cqt, type CqtOptions } from './dsp/cqt.js';
export { instantaneousFrequency } from './dsp/instantaneous-frequency.js';
export { rainbowgram, rainbowColour, type Rainbowgram, type RainbowgramOptions } from './dsp/rainbowgram.js';
