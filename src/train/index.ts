// nsynth-webgpu/train: training on the GPU (Node). The tape, plan and optimiser are plain WebGPU;
// the loop, checkpoints and NSynth readers use the file system.
export { train, type TrainOptions, type TrainLog, type TrainResult } from './trainer.js';
export { TrainPlan, type FlatState, type FlatName } from './train-plan.js';
export { Tape, type GpuValue, type ParamSlot } from '../graph/gpu-tape.js';
export { ReferenceTape, type RefValue } from '../graph/reference.js';
export { autoencoderLoss, encoder, decoder } from '../graph/wavenet.js';
export type { GraphOps, ConvOp } from '../graph/ops.js';
export { ParamLayout, type ParamEntry } from './params.js';
export { learningRate, MAGENTA_SCHEDULE, MAGENTA_STEPS } from './schedule.js';
export {
  writeCheckpoint,
  readCheckpoint,
  loadLatestCheckpoint,
  listCheckpoints,
  sweepTemporary,
  type Checkpoint,
  type CheckpointState,
  type TrajectoryOptions,
} from './checkpoint.js';
export { CropSampler, splitNotes, evalBatches, crop, type SamplerState, type Batch } from './data.js';
export { ADAM_DEFAULTS, adamReference, emaDecay, type AdamHyper } from '../ops/adam-update.js';
export {
  JsonWavSource,
  TfRecordSource,
  openNoteSource,
  matches,
  parseLabelList,
  FAMILIES,
  SOURCES,
  QUALITIES,
  type NoteMeta,
  type NoteSource,
  type NoteFilter,
} from '../dataset/nsynth.js';
export { TfRecordReader, encodeTfRecords, MAX_RECORD_BYTES } from '../dataset/tfrecord.js';
export { decodeExample, encodeExample, type Feature } from '../dataset/tf-example.js';
export {
  writeSyntheticDataset,
  synthesizeNote,
  SYNTH_KINDS,
  type SynthKind,
  type SyntheticOptions,
} from '../dataset/synthetic-notes.js';
