// The fourth evaluator of the WaveNet graph: instead of computing, it writes the TensorFlow NodeDefs
// that compute the same thing, so wavenet.ts's encoder and decoder become a TensorFlow.js GraphModel
// (src/convert/tfjs-graph.ts writes the files). Values are symbolic: a tensor name and a static shape,
// -1 where the batch or the length is only known at run time. Activations are NHWC [B, 1, T, C]
// throughout, so every conv is a Conv2D whose filter is the [1, K, Cin, Cout] weight exactly as it is
// stored (Magenta's layout), and the padding that makes it causal or centred is an explicit Pad.
// Only ops that every tfjs backend (cpu, wasm, webgl, webgpu) implements are emitted; in particular the
// per-frame conditioning is a broadcast add over [frames, hop, C] rather than an upsampling op.
import type { ModelConfig } from '../model/config.js';
import { weightSpecs, type Weights } from '../model/weights.js';
import { MU_LAW_EDGES } from '../ops/mu-law.js';
import type { ConvOp, GraphOps } from './ops.js';
import { decoder, encoder } from './wavenet.js';

/** A TensorFlow AttrValue as tfjs's model.json writes it (int64s as decimal strings, strings base64). */
export interface TfAttr {
  type?: string;
  s?: string;
  i?: string;
  b?: boolean;
  list?: { i?: string[]; s?: string[] };
  shape?: TfShape;
  tensor?: { dtype: string; tensorShape: TfShape };
}

export interface TfShape {
  dim?: { size: string }[];
}

/** One node of the GraphDef (model.json's modelTopology.node). */
export interface TfNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr: Record<string, TfAttr>;
}

/** A constant's values; every Const node's tensor travels in the weights manifest under its name. */
export interface TfConst {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
  /** A model parameter (stored at the export's precision) rather than a graph constant (always exact). */
  parameter: boolean;
}

/** A tensor of the graph being written: `node` or `node:k`, and its shape (-1 = known only at run time). */
export interface TfValue {
  ref: string;
  shape: number[];
}

/** An input or output of the exported model, as model.json's signature and the README describe it. */
export interface TfTensorInfo {
  name: string;
  dtype: 'DT_FLOAT' | 'DT_INT32';
  shape: number[];
  description: string;
}

export type TfjsGraphPart = 'encoder' | 'decoder' | 'autoencoder';
export const TFJS_GRAPH_PARTS: readonly TfjsGraphPart[] = ['encoder', 'decoder', 'autoencoder'];

export interface TfjsGraph {
  part: TfjsGraphPart;
  nodes: TfNodeDef[];
  consts: TfConst[];
  /** Signature keys are the input and output node names. */
  inputs: Record<string, TfTensorInfo>;
  outputs: Record<string, TfTensorInfo>;
}

const DT = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' } as const;

function base64(text: string): string {
  let bin = '';
  for (const ch of new TextEncoder().encode(text)) bin += String.fromCharCode(ch);
  return btoa(bin);
}

function shapeAttr(shape: number[]): TfShape {
  return { dim: shape.map((d) => ({ size: String(d) })) };
}

const ints = (values: number[]): TfAttr => ({ list: { i: values.map(String) } });
const str = (text: string): TfAttr => ({ s: base64(text) });
const dtype = (t: keyof typeof DT): TfAttr => ({ type: DT[t] });
const FLOAT = dtype('float32');

/** Writes the NodeDefs of the WaveNet graph (see the file comment); `finish` names the outputs. */
export class TfGraphBuilder implements GraphOps<TfValue> {
  readonly nodes: TfNodeDef[] = [];
  readonly consts: TfConst[] = [];
  private readonly names = new Set<string>();
  /** Small graph constants by value, so identical paddings and shapes are stored once. */
  private readonly constByValue = new Map<string, TfValue>();

  constructor(
    private readonly weights: Weights,
    /** The pitch input [B] (int32 MIDI numbers) of a pitch-conditioned config. */
    private readonly pitch: TfValue | null = null,
  ) {}

  get config(): ModelConfig {
    return this.weights.config;
  }

  /** A node name not used yet: `base`, else `base_1`, `base_2`, ... */
  private unique(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  /** Adds a node; `shape` is its (first) output's shape. */
  node(op: string, name: string, inputs: TfValue[], attr: Record<string, TfAttr>, shape: number[]): TfValue {
    const n = this.unique(name);
    this.nodes.push({ name: n, op, input: inputs.map((v) => v.ref), attr });
    return { ref: n, shape };
  }

  placeholder(name: string, type: 'float32' | 'int32', shape: number[]): TfValue {
    if (this.names.has(name)) throw new Error(`tfjs graph: input ${name} is defined twice`);
    return this.node('Placeholder', name, [], { dtype: dtype(type), shape: { shape: shapeAttr(shape) } }, shape);
  }

  private constNode(name: string, c: Omit<TfConst, 'name'>): TfValue {
    const v = this.node(
      'Const',
      name,
      [],
      { dtype: dtype(c.dtype), value: { tensor: { dtype: DT[c.dtype], tensorShape: shapeAttr(c.shape) } } },
      c.shape,
    );
    this.consts.push({ name: v.ref, ...c });
    return v;
  }

  /**
   * A graph constant (paddings, shapes, axes, scalars), stored once per distinct value. Those that ops
   * read on the host (shapes, paddings, axes) are int32 and those that feed arithmetic are float32, so
   * no constant is both: a GPU backend would upload it and could read it back only synchronously
   * (tfjs's webgpu backend cannot do that in Node at all). The int32 `classes` feed Equal, which
   * uploads them, and are read by nothing else.
   */
  constant(name: string, type: 'float32' | 'int32', shape: number[], values: ArrayLike<number>): TfValue {
    const key = `${type}[${shape}]${Array.from(values).join(',')}`;
    const known = this.constByValue.get(key);
    if (known) return known;
    const data = type === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    const v = this.constNode(`const/${name}`, { shape, dtype: type, data, parameter: false });
    this.constByValue.set(key, v);
    return v;
  }

  private readonly parameters = new Map<string, TfValue>();
  /** A model parameter as a Const node named as the weight (`dilatedconv_7/W`), so import reads it by name. */
  parameter(name: string): TfValue {
    let v = this.parameters.get(name);
    if (!v) {
      const t = this.weights.get(name);
      if (this.names.has(name)) throw new Error(`tfjs graph: node name ${name} is taken`);
      v = this.constNode(name, { shape: t.shape, dtype: 'float32', data: t.data, parameter: true });
      this.parameters.set(name, v);
    }
    return v;
  }

  relu(x: TfValue, name: string): TfValue {
    return this.node('Relu', name, [x], { T: FLOAT }, x.shape);
  }

  /** An elementwise float32 op of two tensors (the second may broadcast); `shape` when it broadcasts the first. */
  binary(op: string, name: string, a: TfValue, b: TfValue | number, shape = a.shape): TfValue {
    const other = typeof b === 'number' ? this.constant(`scalar_${b}`, 'float32', [], [b]) : b;
    return this.node(op, name, [a, other], { T: FLOAT }, shape);
  }

  add(a: TfValue, b: TfValue, name: string): TfValue {
    return this.binary('AddV2', name, a, b);
  }

  reshape(x: TfValue, shape: number[], name: string, type: 'float32' | 'int32' = 'float32'): TfValue {
    const s = this.constant(`shape_${shape.join('_').replaceAll('-', 'm')}`, 'int32', [shape.length], shape);
    return this.node('Reshape', name, [x, s], { T: dtype(type), Tshape: dtype('int32') }, shape);
  }

  expandDims(x: TfValue, axis: number, name: string, type: 'float32' | 'int32' = 'float32'): TfValue {
    const a = this.constant(`axis_${axis}`, 'int32', [], [axis]);
    const shape = [...x.shape];
    shape.splice(axis, 0, 1);
    return this.node('ExpandDims', name, [x, a], { T: dtype(type), Tdim: dtype('int32') }, shape);
  }

  /** [B, 1, N, C] -> [B, N, C] (the model's outputs). */
  squeezeRow(x: TfValue, name: string): TfValue {
    return this.node('Squeeze', name, [x], { T: FLOAT, squeeze_dims: ints([1]) }, [x.shape[0], ...x.shape.slice(2)]);
  }

  async conv(x: TfValue, layer: string, o: ConvOp<TfValue>): Promise<TfValue> {
    const W = this.parameter(`${layer}/W`);
    const b = this.parameter(`${layer}/biases`);
    const [, K, cin, cout] = W.shape;
    if (K !== o.taps || x.shape[3] !== cin)
      throw new Error(
        `tfjs graph: ${layer}/W is [${W.shape}], the graph gives ${o.taps} taps over ${x.shape[3]} channels`,
      );
    let h = o.reluIn ? this.relu(x, `${layer}/relu_in`) : x;
    const d = o.dilation ?? 1;
    const reach = (K - 1) * d;
    let before = 0;
    let after = 0;
    const mode = o.mode ?? 'causal';
    if (mode === 'causal') before = reach;
    else if (mode === 'centred') before = after = reach / 2;
    else {
      // shift_right: the sample before t is the newest one the conv may see, so the last input drops out.
      const zero = this.constant('zeros_4', 'int32', [4], [0, 0, 0, 0]);
      const end = this.constant('drop_last_time', 'int32', [4], [0, 0, -1, 0]);
      const one = this.constant('ones_4', 'int32', [4], [1, 1, 1, 1]);
      h = this.node(
        'StridedSlice',
        `${layer}/shift_right`,
        [h, zero, end, one],
        {
          T: FLOAT,
          Index: dtype('int32'),
          begin_mask: { i: '15' },
          end_mask: { i: String(0b1011) },
          ellipsis_mask: { i: '0' },
          new_axis_mask: { i: '0' },
          shrink_axis_mask: { i: '0' },
        },
        h.shape,
      );
      before = reach + 1;
    }
    if (before || after) {
      const pads = this.constant(`pad_${before}_${after}`, 'int32', [4, 2], [0, 0, 0, 0, before, after, 0, 0]);
      h = this.node('Pad', `${layer}/pad`, [h, pads], { T: FLOAT, Tpaddings: dtype('int32') }, h.shape);
    }
    const shape = [x.shape[0], 1, x.shape[2], cout];
    let y = this.node(
      'Conv2D',
      `${layer}/Conv2D`,
      [h, W],
      {
        T: FLOAT,
        strides: ints([1, 1, 1, 1]),
        padding: str('VALID'),
        data_format: str('NHWC'),
        dilations: ints([1, 1, d, 1]),
        explicit_paddings: { list: {} },
        use_cudnn_on_gpu: { b: true },
      },
      shape,
    );
    y = this.node('BiasAdd', `${layer}/BiasAdd`, [y, b], { T: FLOAT, data_format: str('NHWC') }, shape);
    if (o.frameBias) y = this.addFrameBias(y, o.frameBias, o.frameLen ?? this.config.hop, layer);
    if (o.residual) y = this.add(y, o.residual, `${layer}/residual`);
    if (o.reluOut) y = this.relu(y, `${layer}/relu_out`);
    return y;
  }

  /**
   * y [B, 1, T, C] plus a per-frame bias [B, 1, T/frameLen, C] on every sample of its frame: a broadcast
   * add over [B*frames, frameLen, C], then back to y's run-time shape (T need not be known here).
   */
  private addFrameBias(y: TfValue, bias: TfValue, frameLen: number, layer: string): TfValue {
    const C = y.shape[3];
    const samples = this.reshape(y, [-1, frameLen, C], `${layer}/frames`);
    const perFrame = this.reshape(bias, [-1, 1, C], `${layer}/frame_bias`);
    const sum = this.add(samples, perFrame, `${layer}/add_frame_bias`);
    const shape = this.node('Shape', `${layer}/shape`, [y], { T: FLOAT, out_type: dtype('int32') }, [4]);
    return this.node('Reshape', `${layer}/conditioned`, [sum, shape], { T: FLOAT, Tshape: dtype('int32') }, y.shape);
  }

  async gate(x: TfValue): Promise<TfValue> {
    const C = x.shape[3] / 2;
    const half = [...x.shape.slice(0, 3), C];
    const axis = this.constant('axis_3', 'int32', [], [3]);
    const base = x.ref.replace(/\/[^/]*$/, '');
    const split = this.node('Split', `${base}/gate_split`, [axis, x], { T: FLOAT, num_split: { i: '2' } }, half);
    const s = this.node(
      'Sigmoid',
      `${base}/gate_sigmoid`,
      [{ ref: `${split.ref}:0`, shape: half }],
      { T: FLOAT },
      half,
    );
    const t = this.node('Tanh', `${base}/gate_tanh`, [{ ref: `${split.ref}:1`, shape: half }], { T: FLOAT }, half);
    return this.node('Mul', `${base}/gate`, [s, t], { T: FLOAT }, half);
  }

  async avgPool(x: TfValue, window: number): Promise<TfValue> {
    const frames = x.shape[2] < 0 ? -1 : x.shape[2] / window;
    return this.node(
      'AvgPool',
      'ae_pool',
      [x],
      {
        T: FLOAT,
        ksize: ints([1, 1, window, 1]),
        strides: ints([1, 1, window, 1]),
        padding: str('VALID'),
        data_format: str('NHWC'),
      },
      [x.shape[0], 1, frames, x.shape[3]],
    );
  }

  /** The one-hot pitch [B, 128] broadcast over the frames (a zero tensor of the right shape plus it), then concatenated. */
  async concatPitch(x: TfValue, classes: number): Promise<TfValue> {
    if (!this.pitch) throw new Error('tfjs graph: a pitch-conditioned config needs the pitch input');
    // One-hot as pitch == 0..127, not the OneHot op: tfjs-backend-wasm 4.22's OneHot returned all
    // zeros for this [B] int32 input (cpu and webgpu were right); Equal + Cast is right on all four.
    const pitches = this.reshape(this.pitch, [-1, 1], 'pitch/column', 'int32');
    const ids = this.constant(
      `classes_${classes}`,
      'int32',
      [classes],
      Array.from({ length: classes }, (_, k) => k),
    );
    const hit = this.node('Equal', 'pitch/equal', [pitches, ids], { T: dtype('int32') }, [
      this.pitch.shape[0],
      classes,
    ]);
    const oneHot = this.node('Cast', 'pitch/one_hot', [hit], { SrcT: dtype('bool'), DstT: FLOAT }, hit.shape);
    const row = this.reshape(oneHot, [-1, 1, 1, classes], 'pitch/row');
    const zeros = this.node('ZerosLike', 'pitch/zeros', [x], { T: FLOAT }, x.shape);
    const begin = this.constant('zeros_4', 'int32', [4], [0, 0, 0, 0]);
    const size = this.constant('one_channel', 'int32', [4], [-1, -1, -1, 1]);
    const column = this.node('Slice', 'pitch/zero_column', [zeros, begin, size], { T: FLOAT, Index: dtype('int32') }, [
      ...x.shape.slice(0, 3),
      1,
    ]);
    const frames = this.binary('AddV2', 'pitch/per_frame', column, row, [...x.shape.slice(0, 3), classes]);
    const axis = this.constant('axis_3', 'int32', [], [3]);
    return this.node('ConcatV2', 'pitch/concat', [x, frames, axis], { T: FLOAT, N: { i: '2' }, Tidx: dtype('int32') }, [
      ...x.shape.slice(0, 3),
      x.shape[3] + classes,
    ]);
  }

  async crossEntropy(): Promise<TfValue> {
    throw new Error('tfjs graph: the exported model ends at the logits (no loss)');
  }

  /**
   * audio [B, T] -> the network input q/128 as [B, 1, T, 1], quantised as our kernels do: by counting
   * the float32 bin edges below |x| (no logarithm, so every backend gets the same classes).
   */
  quantizeAudio(audio: TfValue): TfValue {
    const x = this.expandDims(this.expandDims(audio, 1, 'mu_law/row'), 3, 'mu_law/column');
    const edges = this.constant('mu_law_edges', 'float32', [128], MU_LAW_EDGES.subarray(1));
    const a = this.node('Abs', 'mu_law/abs', [x], { T: FLOAT }, x.shape);
    const bins = [...x.shape.slice(0, 3), 128];
    const count = (op: 'GreaterEqual' | 'Greater', name: string) => {
      const hit = this.node(op, `mu_law/${name}`, [a, edges], { T: FLOAT }, bins);
      const f = this.node('Cast', `mu_law/${name}_float`, [hit], { SrcT: dtype('bool'), DstT: FLOAT }, bins);
      const last = this.constant('axis_list_3', 'int32', [1], [3]);
      return this.node(
        'Sum',
        `mu_law/${name}_count`,
        [f, last],
        { T: FLOAT, Tidx: dtype('int32'), keep_dims: { b: true } },
        x.shape,
      );
    };
    // q = min(#edges <= |x|, 127) for x >= 0; max(-(#edges < |x|) - 1, -128) below.
    const up = this.binary('Minimum', 'mu_law/positive', count('GreaterEqual', 'at_or_below'), 127);
    const negCount = this.node('Neg', 'mu_law/neg_count', [count('Greater', 'below')], { T: FLOAT }, x.shape);
    const down = this.binary('Maximum', 'mu_law/negative', this.binary('Sub', 'mu_law/minus_one', negCount, 1), -128);
    const nonNegative = this.binary('GreaterEqual', 'mu_law/non_negative', x, 0);
    const q = this.node('SelectV2', 'mu_law/q', [nonNegative, up, down], { T: FLOAT }, x.shape);
    return this.binary('Mul', 'mu_law/scaled', q, 1 / 128);
  }

  /** Mu-law classes [B, T] (int32, 0..255) -> the network input (k - 128)/128 as [B, 1, T, 1]. */
  classesToInput(classes: TfValue): TfValue {
    const f = this.node(
      'Cast',
      'mu_law/classes_float',
      [classes],
      { SrcT: dtype('int32'), DstT: FLOAT },
      classes.shape,
    );
    const scaled = this.binary('Mul', 'mu_law/input', this.binary('Sub', 'mu_law/centred', f, 128), 1 / 128);
    return this.expandDims(this.expandDims(scaled, 1, 'mu_law/input_row'), 3, 'mu_law/input_column');
  }
}

/**
 * The GraphDef of one part of the autoencoder: `encoder` (audio -> embedding), `decoder` (teacher-
 * forced: mu-law classes, embedding and pitch -> logits) or `autoencoder` (audio and pitch -> logits
 * and embedding), built by running wavenet.ts's encoder and decoder on this evaluator.
 */
export async function buildTfjsGraph(weights: Weights, part: TfjsGraphPart): Promise<TfjsGraph> {
  const c = weights.config;
  if (!TFJS_GRAPH_PARTS.includes(part))
    throw new Error(`unknown part "${part}" (known: ${TFJS_GRAPH_PARTS.join(', ')})`);
  const inputs: Record<string, TfTensorInfo> = {};
  const outputs: Record<string, TfTensorInfo> = {};
  const samplesNote = `T a multiple of ${c.hop} (${c.hop} samples per embedding frame)`;
  // The pitch input is declared before the graph is walked: concatPitch reads it.
  const pitchInput = c.pitchConditioning ? ({ ref: 'pitch', shape: [-1] } satisfies TfValue) : null;
  const g = new TfGraphBuilder(weights, pitchInput);
  const declare = (name: string, type: 'float32' | 'int32', shape: number[], description: string) => {
    inputs[name] = { name: `${name}:0`, dtype: type === 'float32' ? 'DT_FLOAT' : 'DT_INT32', shape, description };
    return g.placeholder(name, type, shape);
  };
  const publish = (v: TfValue, name: string, description: string) => {
    const out = g.squeezeRow(v, name);
    if (out.ref !== name) throw new Error(`tfjs graph: output name ${name} is taken`);
    outputs[name] = { name: `${name}:0`, dtype: 'DT_FLOAT', shape: out.shape, description };
  };
  const pitch = () => {
    if (pitchInput) declare('pitch', 'int32', [-1], 'MIDI pitch of each batch item (0..127), int32 [B]');
  };
  const bn = c.bottleneck;
  const frames = `[B, T/${c.hop}, ${bn}] (one ${bn}-channel frame per ${c.hop} samples)`;
  const logitsText = `float32 [B, T, ${c.numClasses}]: at step t, the logits of sample t's mu-law class given the samples before it`;
  if (part === 'encoder') {
    const audio = declare('audio', 'float32', [-1, -1], `16 kHz mono audio in [-1, 1], float32 [B, T], ${samplesNote}`);
    publish(await encoder(g, c, g.quantizeAudio(audio)), 'embedding', `the embedding, float32 ${frames}`);
  } else if (part === 'decoder') {
    const classes = declare(
      'mu_law',
      'int32',
      [-1, -1],
      `mu-law classes (0..255) of the audio, int32 [B, T], ${samplesNote}`,
    );
    const emb = declare('embedding', 'float32', [-1, -1, bn], `the encoder's embedding, float32 ${frames}`);
    pitch();
    const logits = await decoder(g, c, g.classesToInput(classes), g.expandDims(emb, 1, 'embedding_row'));
    publish(logits, 'logits', logitsText);
  } else {
    const audio = declare('audio', 'float32', [-1, -1], `16 kHz mono audio in [-1, 1], float32 [B, T], ${samplesNote}`);
    pitch();
    const x = g.quantizeAudio(audio);
    const emb = await encoder(g, c, x);
    publish(await decoder(g, c, x, emb), 'logits', logitsText);
    publish(emb, 'embedding', `the embedding, float32 ${frames}`);
  }
  // Parameters the graph never reads (the last layer's res_L, whose output feeds nothing) are stored
  // all the same, as Const nodes nothing consumes, so the export converts back to the same weights.
  for (const s of weightSpecs(c))
    if (
      (part === 'autoencoder' || s.name.startsWith('ae_') === (part === 'encoder')) &&
      !g.consts.some((k) => k.name === s.name)
    )
      g.parameter(s.name);
  return { part, nodes: g.nodes, consts: g.consts, inputs, outputs };
}
