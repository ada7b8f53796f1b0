// The spectrogram baseline autoencoder of the NSynth paper (spec section 4): strided 2-D convs with
// batch norm and leaky ReLU down to a 1,984-value code per note, the mirrored transposed-conv
// decoder with a learned pitch embedding, a sigmoid output and the frequency-weighted MSE.
// `baseline` is Magenta's nfft_1024 config; `baseline_small` keeps its input, code and depth with
// fewer channels (trainable on a CPU); `baseline_micro` is for gradient checks.
import { PITCH_CLASSES } from './config.js';
import type { TensorSpec } from './weights.js';

export interface BaselineLayer {
  /** The layer's name in the weights (`encoder/<name>/weights`, Magenta's `7_1` style). */
  name: string;
  kernel: [number, number];
  /** (frequency, time). */
  stride: [number, number];
  channels: number;
}

export interface BaselineConfig {
  arch: 'baseline';
  name: string;
  sampleRate: number;
  nFft: number;
  hop: number;
  /** Samples per note (64,000: NSynth's 4 s); its STFT frames are zero-padded to `timeFrames`. */
  samples: number;
  /** Network input [freq, time]: nFft / 2 bins (Nyquist dropped) by the next power of two of frames. */
  freqBins: number;
  timeFrames: number;
  /** Conv, batch norm, leaky ReLU each; then a 1x1 conv with batch norm to the code. */
  encoder: BaselineLayer[];
  latent: number;
  /** Width of the learned pitch embedding (a [128, pitchDims] table) concatenated to the code. */
  pitchDims: number;
  /** Transposed convs, batch norm, leaky ReLU each (the first from the 1x1 code); then a 1x1 conv with bias and a sigmoid. */
  decoder: BaselineLayer[];
  /** Frequency-weighted MSE: weight `fwLossCoeff` falling to 1 over the bins below `fwLossCutoff` Hz. */
  fwLossCoeff: number;
  fwLossCutoff: number;
  /** Log-magnitude range in dB that maps onto [0, 1] (Magenta: 120). */
  topDb: number;
}

export const LEAKY_RELU_ALPHA = 0.1;

const L = (name: string, k: number, s: [number, number], channels: number): BaselineLayer => ({
  name,
  kernel: [k, k],
  stride: s,
  channels,
});

/** Encoder and decoder of the paper's shape with the channels scaled by `w` (1 = Magenta's). */
function paperShape(name: string, w: number): BaselineConfig {
  const c = (n: number) => Math.max(4, Math.round(n * w));
  return {
    arch: 'baseline',
    name,
    sampleRate: 16000,
    nFft: 1024,
    hop: 256,
    samples: 64000,
    freqBins: 512,
    timeFrames: 256,
    encoder: [
      L('0', 5, [2, 2], c(128)),
      L('1', 4, [2, 2], c(128)),
      L('2', 4, [2, 2], c(128)),
      L('3', 4, [2, 2], c(256)),
      L('4', 4, [2, 2], c(256)),
      L('5', 4, [2, 2], c(256)),
      L('6', 4, [2, 2], c(512)),
      L('7', 4, [2, 2], c(512)),
      L('7_1', 4, [2, 1], c(512)),
      L('8', 1, [1, 1], c(1024)),
    ],
    latent: 1984,
    pitchDims: 128,
    decoder: [
      L('0', 1, [1, 1], c(1024)),
      L('1', 4, [2, 2], c(512)),
      L('2', 4, [2, 2], c(512)),
      L('3', 4, [2, 2], c(256)),
      L('4', 4, [2, 2], c(256)),
      L('5', 4, [2, 2], c(256)),
      L('6', 4, [2, 2], c(128)),
      L('7', 4, [2, 2], c(128)),
      L('8', 5, [2, 2], c(128)),
      L('8_1', 5, [2, 1], c(128)),
    ],
    fwLossCoeff: 10,
    fwLossCutoff: 4000,
    topDb: 120,
  };
}

export const BASELINE_CONFIGS: Record<string, BaselineConfig> = {
  baseline: paperShape('baseline', 1),
  baseline_small: paperShape('baseline_small', 1 / 16),
  // 16 x 8 spectrogram cells (nFft 32, hop 8, 57 samples), 2-4 channels: small enough to differentiate numerically.
  baseline_micro: {
    arch: 'baseline',
    name: 'baseline_micro',
    sampleRate: 16000,
    nFft: 32,
    hop: 8,
    samples: 57,
    freqBins: 16,
    timeFrames: 8,
    encoder: [L('0', 3, [2, 2], 3), L('1', 2, [2, 2], 3), L('2', 2, [2, 2], 4), L('2_1', 2, [2, 1], 4)],
    latent: 5,
    pitchDims: 3,
    decoder: [
      L('0', 1, [1, 1], 4),
      L('1', 2, [2, 2], 3),
      L('2', 2, [2, 2], 3),
      L('3', 3, [2, 2], 2),
      L('3_1', 3, [2, 1], 2),
    ],
    fwLossCoeff: 10,
    fwLossCutoff: 4000,
    topDb: 120,
  },
};

export function isBaselineConfig(c: unknown): c is BaselineConfig {
  return typeof c === 'object' && c !== null && (c as { arch?: unknown }).arch === 'baseline';
}

export function getBaselineConfig(name: string): BaselineConfig {
  if (!Object.hasOwn(BASELINE_CONFIGS, name))
    throw new Error(`Unknown baseline config "${name}" (have ${Object.keys(BASELINE_CONFIGS).join(', ')})`);
  return structuredClone(BASELINE_CONFIGS[name]);
}

/** Every tensor of the baseline in Magenta's slim names (inferred; the released index was not available). */
export function baselineWeightSpecs(c: BaselineConfig): TensorSpec[] {
  const specs: TensorSpec[] = [];
  const bn = (scope: string, ch: number) => [
    { name: `${scope}/BatchNorm/beta`, shape: [ch] },
    { name: `${scope}/BatchNorm/moving_mean`, shape: [ch] },
    { name: `${scope}/BatchNorm/moving_variance`, shape: [ch] },
  ];
  let cin = 1;
  for (const l of c.encoder) {
    specs.push(
      { name: `encoder/${l.name}/weights`, shape: [...l.kernel, cin, l.channels] },
      ...bn(`encoder/${l.name}`, l.channels),
    );
    cin = l.channels;
  }
  specs.push({ name: 'encoder/z/weights', shape: [1, 1, cin, c.latent] }, ...bn('encoder/z', c.latent));
  specs.push({ name: 'decoder/PitchEmbedding/embedding_weights', shape: [PITCH_CLASSES, c.pitchDims] });
  cin = c.latent + c.pitchDims;
  for (const l of c.decoder) {
    // conv2d_transpose filters are [kh, kw, out, in] in TensorFlow.
    specs.push(
      { name: `decoder/${l.name}/weights`, shape: [...l.kernel, l.channels, cin] },
      ...bn(`decoder/${l.name}`, l.channels),
    );
    cin = l.channels;
  }
  specs.push({ name: 'decoder/mag/weights', shape: [1, 1, cin, 1] }, { name: 'decoder/mag/biases', shape: [1] });
  return specs;
}

/** Floats of the largest activation of one note (what one storage binding must hold, times the batch). */
export function baselineWidestActivation(c: BaselineConfig): number {
  let [h, w] = [c.freqBins, c.timeFrames];
  let widest = h * w;
  for (const l of c.encoder) {
    [h, w] = [Math.ceil(h / l.stride[0]), Math.ceil(w / l.stride[1])];
    widest = Math.max(widest, h * w * l.channels);
  }
  widest = Math.max(widest, c.latent + c.pitchDims);
  for (const l of c.decoder) {
    [h, w] = [h * l.stride[0], w * l.stride[1]];
    widest = Math.max(widest, h * w * l.channels);
  }
  return widest;
}

/** Checks that the encoder reaches 1 x 1 and the decoder comes back to the input's size. */
export function checkBaselineGeometry(c: BaselineConfig): void {
  let [h, w] = [c.freqBins, c.timeFrames];
  for (const l of c.encoder) [h, w] = [Math.ceil(h / l.stride[0]), Math.ceil(w / l.stride[1])];
  if (h !== 1 || w !== 1) throw new Error(`baseline config ${c.name}: the encoder ends at ${h} x ${w}, not 1 x 1`);
  for (const l of c.decoder) [h, w] = [h * l.stride[0], w * l.stride[1]];
  if (h !== c.freqBins || w !== c.timeFrames)
    throw new Error(`baseline config ${c.name}: the decoder ends at ${h} x ${w}, not ${c.freqBins} x ${c.timeFrames}`);
  const frames = 1 + Math.floor(c.samples / c.hop);
  if (frames > c.timeFrames || c.nFft / 2 !== c.freqBins)
    throw new Error(
      `baseline config ${c.name}: ${frames} STFT frames of ${c.nFft / 2} bins do not fit ${c.freqBins} x ${c.timeFrames}`,
    );
}

/** Checks a baseline config read from a file; errors say which field is wrong. */
export function validateBaselineConfig(c: unknown, where: string): BaselineConfig {
  const o = c as BaselineConfig;
  const pos = (v: unknown, f: string, max = 1 << 20) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
      throw new Error(`${where}: config field ${f} is ${JSON.stringify(v)}, expected a positive integer`);
  };
  if (typeof o.name !== 'string') throw new Error(`${where}: config has no name`);
  for (const f of [
    'sampleRate',
    'nFft',
    'hop',
    'samples',
    'freqBins',
    'timeFrames',
    'latent',
    'pitchDims',
    'fwLossCutoff',
  ] as const)
    pos(o[f], f);
  for (const f of ['fwLossCoeff', 'topDb'] as const)
    if (typeof o[f] !== 'number' || !(o[f] > 0) || !Number.isFinite(o[f]))
      throw new Error(`${where}: config field ${f} is ${JSON.stringify(o[f])}, expected a positive number`);
  if (o.sampleRate !== 16000) throw new Error(`${where}: sample rate ${o.sampleRate}: only 16000 is supported`);
  if (!Number.isInteger(Math.log2(o.nFft))) throw new Error(`${where}: nFft ${o.nFft} is not a power of two`);
  for (const side of ['encoder', 'decoder'] as const) {
    const layers = o[side];
    if (!Array.isArray(layers) || layers.length < 1 || layers.length > 64)
      throw new Error(`${where}: config field ${side} must list 1 to 64 layers`);
    for (const [i, l] of layers.entries()) {
      const f = `${side}[${i}]`;
      if (typeof l?.name !== 'string' || !/^[\w]+$/.test(l.name))
        throw new Error(`${where}: ${f}.name must be a plain name`);
      pos(l.channels, `${f}.channels`);
      for (const k of [0, 1]) {
        pos(l.kernel?.[k], `${f}.kernel[${k}]`, 64);
        pos(l.stride?.[k], `${f}.stride[${k}]`, 64);
      }
    }
  }
  checkBaselineGeometry(o);
  return o;
}
