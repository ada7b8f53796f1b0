// Model configurations. `h512_bo16` is Magenta's released WaveNet autoencoder exactly; the others
// are smaller members of the same family (tests, the shipped default model, experiments).
// A config is the one place where widths and depths live; weight names and shapes derive from it.

export interface ModelConfig {
  name: string;
  sampleRate: number;
  /** Samples per embedding frame (the encoder's pooling window). */
  hop: number;
  /** Embedding channels (Magenta's ae_bottleneck_width). */
  bottleneck: number;
  encoder: { width: number; stages: number; layersPerStage: number };
  decoder: { residual: number; skip: number; stages: number; layersPerStage: number };
  /** Taps of every dilated conv (3 in NSynth). */
  filterLength: number;
  /** Mu-law classes of the output softmax. */
  numClasses: number;
  /** Concatenate a one-hot MIDI pitch (128 values) to the embedding before every conditioning projection. */
  pitchConditioning: boolean;
}

export const PITCH_CLASSES = 128;

function family(
  name: string,
  enc: number,
  residual: number,
  skip: number,
  stages: number,
  layers: number,
  pitch = false,
): ModelConfig {
  return {
    name,
    sampleRate: 16000,
    hop: 512,
    bottleneck: 16,
    filterLength: 3,
    numClasses: 256,
    pitchConditioning: pitch,
    encoder: { width: enc, stages, layersPerStage: layers },
    decoder: { residual, skip, stages, layersPerStage: layers },
  };
}

export const CONFIGS: Record<string, ModelConfig> = {
  /** Magenta's released model (wavenet-ckpt, model.ckpt-200000): 61.8 M parameters. */
  h512_bo16: family('h512_bo16', 128, 512, 256, 3, 10),
  /** For tests: 2 stages x 5 layers, every width 32. */
  tiny: family('tiny', 32, 32, 32, 2, 5),
  /** `tiny` with the paper's optional one-hot pitch conditioning. */
  tiny_pitch: family('tiny_pitch', 32, 32, 32, 2, 5, true),
  /** A mid-sized member of the family: the full 3 x 10 dilation pattern at a quarter of the width. */
  h128_bo16: family('h128_bo16', 64, 128, 128, 3, 10),
  // Candidates for the shipped default model, trained for equal time on nsynth-subset (docs/model-choice.md):
  // 2 stages x 10 layers reach 4,093 samples back (two periods of MIDI 24), and a narrow encoder
  // (it only has to describe timbre when the pitch is given).
  /** Residual 32, skip 64, encoder 32, one-hot pitch. */
  h32_pitch: family('h32_pitch', 32, 32, 64, 2, 10, true),
  /** Residual 64, skip 64, encoder 32, one-hot pitch. */
  h64_pitch: family('h64_pitch', 32, 64, 64, 2, 10, true),
  /** `h64_pitch` without the pitch: the embedding alone must carry it. */
  h64: family('h64', 32, 64, 64, 2, 10),
  /** Residual 96, skip 96, encoder 48, one-hot pitch. */
  h96_pitch: family('h96_pitch', 48, 96, 96, 2, 10, true),
};

export function getConfig(name: string): ModelConfig {
  const c = CONFIGS[name];
  if (!c) throw new Error(`Unknown config "${name}" (known: ${Object.keys(CONFIGS).join(', ')})`);
  return structuredClone(c);
}

export function encoderLayers(c: ModelConfig): number {
  return c.encoder.stages * c.encoder.layersPerStage;
}
export function decoderLayers(c: ModelConfig): number {
  return c.decoder.stages * c.decoder.layersPerStage;
}
/** Dilation of layer i (1-based), Magenta's 2^((i-1) mod layersPerStage). */
export function dilation(i: number, layersPerStage: number): number {
  return 2 ** ((i - 1) % layersPerStage);
}
/** Width of the conditioning input: the embedding, plus the one-hot pitch where configured. */
export function conditioningWidth(c: ModelConfig): number {
  return c.bottleneck + (c.pitchConditioning ? PITCH_CLASSES : 0);
}

/** How far back the decoder looks: sample t depends on inputs t-rf .. t-1 (6141 for h512_bo16). */
export function decoderReceptiveField(c: ModelConfig): number {
  let rf = c.filterLength - 1 + 1; // start conv taps + shift_right
  for (let i = 1; i <= decoderLayers(c); i++) rf += (c.filterLength - 1) * dilation(i, c.decoder.layersPerStage);
  return rf;
}
/** How far the (non-causal) encoder looks either side of a sample (3070 for h512_bo16). */
export function encoderReach(c: ModelConfig): number {
  const half = (c.filterLength - 1) / 2;
  let r = half;
  for (let i = 1; i <= encoderLayers(c); i++) r += half * dilation(i, c.encoder.layersPerStage);
  return r;
}

/** Checks a config read from a file; errors say which field is wrong. */
export function validateConfig(c: unknown, where: string): ModelConfig {
  const o = c as ModelConfig;
  const pos = (v: unknown, f: string) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1 << 20)
      throw new Error(`${where}: config field ${f} is ${JSON.stringify(v)}, expected a positive integer`);
  };
  if (typeof o !== 'object' || o === null) throw new Error(`${where}: config is missing`);
  if (typeof o.name !== 'string') throw new Error(`${where}: config has no name`);
  for (const f of ['sampleRate', 'hop', 'bottleneck', 'filterLength', 'numClasses'] as const) pos(o[f], f);
  for (const f of ['width', 'stages', 'layersPerStage'] as const) pos(o.encoder?.[f], `encoder.${f}`);
  for (const f of ['residual', 'skip', 'stages', 'layersPerStage'] as const) pos(o.decoder?.[f], `decoder.${f}`);
  if (typeof o.pitchConditioning !== 'boolean')
    throw new Error(`${where}: config field pitchConditioning must be true or false`);
  if (o.filterLength !== 3)
    throw new Error(`${where}: filterLength ${o.filterLength} is not supported (NSynth uses 3)`);
  // NSynth audio is 16 kHz; the frame length (512 in every released config) is free, since every
  // kernel takes it as a parameter (tests use very small frames to differentiate whole models).
  if (o.sampleRate !== 16000) throw new Error(`${where}: sample rate ${o.sampleRate}: only 16000 is supported`);
  return o;
}
