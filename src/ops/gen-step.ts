// Host wrappers for the fast generator's step kernels: kernels/gen_step_start.wgsl (start conv and
// the past taps of every layer), gen_gate.wgsl (current tap + gate, ring write), gen_res_skip.wgsl
// (the [res | skip] matvec), gen_head_sample.wgsl (head, softmax sampling, feedback) and
// gen_voice_loop.wgsl (all of it, one workgroup per voice, many steps per dispatch) and
// gen_voice_lanes.wgsl (the same for CPU adapters, one 8-lane subgroup per voice). They share
// the step parameters and state layout of kernels/lib_generation.wgsl. On CPU adapters with
// subgroups the layered path's two matvecs run gen_gate_lanes.wgsl and gen_res_skip_lanes.wgsl,
// and its step start gen_step_start_lanes.wgsl (layeredKernels): the same sums, with each voice's
// inputs read once per subgroup.
//
// Their reference is the decoder itself: under teacher forcing, every step's logits equal the
// teacher-forced decoder's (the graph, checked against its float64 evaluation), within 1e-4;
// test/ops/gen-step.test.ts checks every path that way, and the sampler against
// src/ops/sample-categorical.ts. A separate step-by-step reference would be the WaveNet written
// a fourth time.
import type { Engine } from '../gpu/engine.js';
import { lanesOf } from '../gpu/lanes.js';
import type { Dispatch, Kernel } from '../gpu/registry.js';

/** Voices per voice group in the layered kernels (their `const VB`): one weight read serves them all. */
export const VOICE_TILE = 16;

/** Steps one voice-loop dispatch runs. */
export const VOICE_LOOP_STEPS = 64;

/** Float offsets of the small tensors inside the small-weights buffer (lib_generation's `at_*` fields). */
export interface SmallWeightOffsets {
  startW: number;
  startB: number;
  skipStartW: number;
  skipStartB: number;
  /**
   * skip_start folded into the start conv (both linear, nothing between them): [3][S] weights on
   * x[t-3], x[t-2], x[t-1] and [S] biases (packGenWeights), so the step start's skip is 4 FMAs an
   * output instead of an R-long sum that recomputes the start conv (lib_gen_start_conv.wgsl).
   */
  skipFoldW: number;
  skipFoldB: number;
  resSkipB: number;
  out1W: number;
  logitsW: number;
  logitsB: number;
}

/**
 * Consecutive decoder layers whose rings and conditioning share one buffer each
 * (kernels/lib_generation.wgsl, "Layer groups"): an instance splits its layers into groups where
 * one storage binding cannot hold them all for its voices (src/generate/instance.ts, layerGroups).
 */
export interface LayerGroup {
  first: number;
  count: number;
}

/** The step parameters (lib_generation's GenParams) of one generation instance. */
export interface GenStepParams {
  /** Voices in this instance. */
  B: number;
  R: number;
  S: number;
  L: number;
  layersPerStage: number;
  frames: number;
  hop: number;
  /**
   * The layer groups, in order, covering layers [0, L): group g's ring and conditioning are
   * GenStepBuffers.hist[g] and cond[g]; a group's conditioning rows hold its layers' 2R columns
   * each, and in the last group then the head's S.
   */
  groups: LayerGroup[];
  temperature: number;
  /** Feed the teacher's classes instead of the sampled ones (tests). */
  teacher: boolean;
  /** Keep every step's logits (tests). */
  recordLogits: boolean;
  at: SmallWeightOffsets;
}

/** The GPU buffers one instance's step kernels bind. */
export interface GenStepBuffers {
  /** u32: per-voice step counters, input history and RNG keys (kernels/lib_generation.wgsl). */
  state: GPUBuffer;
  /** Per layer group (GenStepParams.groups): its layers' rings of past layer inputs. */
  hist: GPUBuffer[];
  /** Past-tap outputs of every layer for the current step. */
  past: GPUBuffer;
  /** Per voice [l | s]: the residual stream and the skip sum of the current step. */
  lAndS: GPUBuffer;
  /** The current layer's gate output. */
  gated: GPUBuffer;
  /**
   * Per layer group: the per-frame conditioning of its layers (the last group's also the head's),
   * the frame-constant biases folded in.
   */
  cond: GPUBuffer[];
  /** u32 [B][steps]: the sampled classes. */
  classes: GPUBuffer;
  /** u32 [B][steps] teacher classes, or a placeholder. */
  teacher: GPUBuffer;
  /** [B][steps][256] recorded logits, or a placeholder (written, so never shared with another binding). */
  stepLogits: GPUBuffer;
}

/** The step-laid-out weights (generate/gen-weights.ts). */
export interface GenStepWeights {
  wPast: GPUBuffer;
  wCur: GPUBuffer;
  wResSkip: GPUBuffer;
  small: GPUBuffer;
}

/** The index of the group holding `layer`. */
export function groupOfLayer(p: { groups: LayerGroup[] }, layer: number): number {
  const g = p.groups.findIndex((x) => layer >= x.first && layer < x.first + x.count);
  if (g < 0) throw new Error(`layer ${layer} is in no layer group`);
  return g;
}

/** Floats per conditioning row of group g: its layers' 2R columns, then in the last group the head's S. */
export function condStrideOf(p: { groups: LayerGroup[]; R: number; S: number }, g: number): number {
  return p.groups[g].count * 2 * p.R + (g === p.groups.length - 1 ? p.S : 0);
}

/** A dispatch's GenParams: `layer` its layer, bound to group g's buffers (by default the group holding the layer). */
function uniforms(p: GenStepParams, layer: number, g = groupOfLayer(p, layer)): Record<string, number> {
  return {
    B: p.B,
    R: p.R,
    S: p.S,
    L: p.L,
    lps: p.layersPerStage,
    frames: p.frames,
    hop: p.hop,
    steps: p.frames * p.hop,
    cond_stride: condStrideOf(p, g),
    layer,
    group_first: p.groups[g].first,
    group_layers: p.groups[g].count,
    temperature: p.temperature,
    flags: (p.teacher ? 1 : 0) | (p.recordLogits ? 2 : 0),
    at_start_w: p.at.startW,
    at_start_b: p.at.startB,
    at_skip_start_w: p.at.skipStartW,
    at_skip_start_b: p.at.skipStartB,
    at_skip_fold_w: p.at.skipFoldW,
    at_skip_fold_b: p.at.skipFoldB,
    at_res_skip_b: p.at.resSkipB,
    at_out1_w: p.at.out1W,
    at_logits_w: p.at.logitsW,
    at_logits_b: p.at.logitsB,
  };
}

const voiceGroups = (p: GenStepParams) => Math.ceil(p.B / VOICE_TILE);

/**
 * What the kernels that sample bind (gen_head_sample, gen_voice_loop): state, conditioning (the last
 * group's, which holds the head's), classes in and out.
 */
function samplingBindings(s: GenStepBuffers) {
  const cond = s.cond[s.cond.length - 1];
  return { state: s.state, cond, classes: s.classes, teacher: s.teacher, step_logits: s.stepLogits };
}

/**
 * Start conv, skip_start and the past taps (t - 2d, t - d) of every layer, biases and conditioning
 * folded in; with `pastStorage` 'f16', w.wPast holds the past taps as f16 pairs (the _f16 kernels).
 * Where the layered kernels are `lanes` (layeredKernels), gen_step_start_lanes[_f16]: the same
 * sums, each voice's history read once per subgroup, 8 outputs a thread (lavapipe, h512_bo16, 10
 * voices: 98.8 to 49.2 ms a step at first, where it had been ~70% of the layered step; 8 outputs
 * 1.09-1.16x more). One dispatch per layer group.
 */
export async function genStepStart(
  engine: Engine,
  p: GenStepParams,
  w: GenStepWeights,
  s: GenStepBuffers,
  pastStorage: 'f32' | 'f16' = 'f32',
): Promise<Dispatch[]> {
  const lanes = layeredKernels(p.R, p.S, lanesOf(engine)) === 'lanes';
  const name = `gen_step_start${lanes ? '_lanes' : ''}${pastStorage === 'f16' ? '_f16' : ''}`;
  // the lanes step start makes 8 past-tap outputs a thread, each layer's threads in whole groups
  // of 8, in workgroups that each hold one layer's (lib_gen_step_start_lanes.wgsl); the tiled one
  // 4 outputs a thread in workgroups of 64
  const perLayer = lanes ? stepStartLanesThreads(p.R) : (2 * p.R) / 4;
  const WG = lanes ? stepStartLanesWorkgroup(perLayer) : 64;
  const k = await (lanes ? engine.kernel(name, { WG }) : engine.kernel(name));
  // one dispatch per layer group, the last one also running part (b)
  return p.groups.map((group, g) => {
    const last = g === p.groups.length - 1;
    const threads = group.count * perLayer + (last ? (p.R + p.S) / 4 : 0);
    return k.prepare(
      {
        p: uniforms(p, group.first, g),
        state: s.state,
        hist: s.hist[g],
        w_past: w.wPast,
        cond: s.cond[g],
        small_w: w.small,
        past: s.past,
        l_and_s: s.lAndS,
      },
      [Math.ceil(threads / WG), voiceGroups(p)],
    );
  });
}

/** Threads a layer takes in the lanes step start: its R/4 outputs of 8, rounded up to whole groups of 8. */
export function stepStartLanesThreads(R: number): number {
  return Math.ceil(R / 4 / 8) * 8;
}

/**
 * The lanes step start's workgroup size: the largest of 64, 32, 16 and 8 that divides a layer's
 * threads (a multiple of 8), so that every workgroup is all of one layer, its layer index then
 * alike across the workgroup (lib_gen_step_start_lanes.wgsl). h512_bo16: 128 threads a layer, 64.
 */
export function stepStartLanesWorkgroup(threadsPerLayer: number): number {
  for (const wg of [64, 32, 16]) if (threadsPerLayer % wg === 0) return wg;
  return 8;
}

/**
 * The layered path's kernels: `tiles` (gen_step_start, gen_gate, gen_res_skip: every thread reads
 * every voice's inputs itself) or `lanes` (gen_step_start_lanes, gen_gate_lanes,
 * gen_res_skip_lanes: each input read once per subgroup and handed round by subgroupShuffle; the
 * same sums in the same order). `lanes` where the lanes kernels are preferred (CPU adapters with
 * subgroups of 8+ lanes, or NSYNTH_KERNELS=lanes; src/gpu/lanes.ts) and the residual and skip
 * widths are divisible by 8. Measured on lavapipe (2-core VM, h512_bo16, all 30 layers of one
 * instance, in one process): 10 voices, gate 1.6-1.7x and res/skip 2.2-2.4x faster (both near 47%
 * of the FMA probe); 2 voices 1.5x and 2x; whole steps 1.15-1.3x at batch 2-32, where the
 * step-start kernel was most of the time. A lone voice gains too, from 16-byte weight reads: the
 * step start's past taps 6.5-7.9 ms a step against 11.8-12.9 in f16, a gate layer 120 us against
 * 139, a res/skip layer 102-110 us against 131 (gate_one_voice_wide, res_skip_one_voice).
 */
export type LayeredKernels = 'tiles' | 'lanes';

export function layeredKernels(R: number, S: number, lanes: { preferred: boolean }): LayeredKernels {
  return lanes.preferred && R % 8 === 0 && S % 8 === 0 ? 'lanes' : 'tiles';
}

/**
 * Threads per workgroup of the lanes kernels for `threads` threads: a multiple of 8 (whole 8-lane
 * subgroups) from 8 to 64, aiming at 4 workgroups so that a CPU adapter's cores share them out
 * evenly (h512_bo16: the gate's 128 threads in 4 x 32, res/skip's 96 in 4 x 24).
 */
export function lanesWorkgroup(threads: number): number {
  return Math.min(64, Math.max(8, Math.ceil(threads / 4 / 8) * 8));
}

/**
 * Layer `layer` (0-based): its current tap added to the past ones, the gate, and l written into its
 * ring. With `curF16` (w.wCur as f16 pairs), gen_gate_f16 or gen_gate_lanes_f16.
 */
export async function genGate(
  engine: Engine,
  p: GenStepParams,
  layer: number,
  w: GenStepWeights,
  s: GenStepBuffers,
  curF16?: GPUBuffer,
): Promise<Dispatch> {
  const bindings = {
    p: uniforms(p, layer),
    state: s.state,
    past: s.past,
    w_cur: w.wCur,
    l_and_s: s.lAndS,
    hist: s.hist[groupOfLayer(p, layer)],
    gated: s.gated,
  };
  if (layeredKernels(p.R, p.S, lanesOf(engine)) === 'lanes') {
    // a thread per gate vec4 of each half, or per two of them where every voice group is a lone
    // voice (gate_one_voice_wide, lib_gen_gate_lanes.wgsl)
    const threads = p.B === 1 ? p.R / 8 : p.R / 4;
    const WG = lanesWorkgroup(threads);
    const k = await engine.kernel(curF16 ? 'gen_gate_lanes_f16' : 'gen_gate_lanes', { WG });
    return k.prepare(curF16 ? { ...bindings, w_cur: curF16 } : bindings, [Math.ceil(threads / WG), voiceGroups(p)]);
  }
  const k = await engine.kernel(curF16 ? 'gen_gate_f16' : 'gen_gate');
  return k.prepare(curF16 ? { ...bindings, w_cur: curF16 } : bindings, [Math.ceil(p.R / 4 / 64), voiceGroups(p)]);
}

/**
 * Layer `layer`: the gate output through [res | skip], accumulated into [l | s]. With `resSkipF16`
 * (w.wResSkip as f16 pairs), gen_res_skip_f16 or gen_res_skip_lanes_f16.
 */
export async function genResSkip(
  engine: Engine,
  p: GenStepParams,
  layer: number,
  w: GenStepWeights,
  s: GenStepBuffers,
  resSkipF16?: GPUBuffer,
): Promise<Dispatch> {
  const bindings = {
    p: uniforms(p, layer),
    w_res_skip: w.wResSkip,
    small_w: w.small,
    gated: s.gated,
    l_and_s: s.lAndS,
  };
  const Q = (p.R + p.S) / 4;
  if (layeredKernels(p.R, p.S, lanesOf(engine)) === 'lanes') {
    const threads = Q / 2; // two output vec4s per thread
    const WG = lanesWorkgroup(threads);
    const k = await engine.kernel(resSkipF16 ? 'gen_res_skip_lanes_f16' : 'gen_res_skip_lanes', { WG });
    return k.prepare(resSkipF16 ? { ...bindings, w_res_skip: resSkipF16 } : bindings, [
      Math.ceil(threads / WG),
      voiceGroups(p),
    ]);
  }
  const k = await engine.kernel(resSkipF16 ? 'gen_res_skip_f16' : 'gen_res_skip');
  return k.prepare(resSkipF16 ? { ...bindings, w_res_skip: resSkipF16 } : bindings, [
    Math.ceil(Q / 64),
    voiceGroups(p),
  ]);
}

/** The head (ReLU, out1 + conditioning, ReLU, logits), softmax sampling, and the sample fed back. */
export async function genHeadSample(
  engine: Engine,
  p: GenStepParams,
  w: GenStepWeights,
  s: GenStepBuffers,
): Promise<Dispatch> {
  const k = await engine.kernel('gen_head_sample');
  return k.prepare({ p: uniforms(p, p.L - 1), l_and_s: s.lAndS, small_w: w.small, ...samplingBindings(s) }, [p.B]);
}

/** Float offsets of the four weight blocks inside the voice loop's single weights buffer. */
export interface AllWeightOffsets {
  wPast: number;
  wCur: number;
  wResSkip: number;
  small: number;
}

/**
 * kernels/gen_voice_lanes.wgsl: the voice loop with one 8-lane subgroup per voice (CPU adapters),
 * specialised to the config's widths by its override constants. Same bindings as genVoiceLoop;
 * with `storage` 'f16', `all` holds the weights as f16 pairs (gen_voice_lanes_f16.wgsl).
 */
export async function genVoiceLanes(
  engine: Engine,
  p: GenStepParams,
  steps: number,
  all: GPUBuffer,
  at: AllWeightOffsets,
  s: GenStepBuffers,
  storage: 'f32' | 'f16' = 'f32',
): Promise<Dispatch> {
  // (the small tensors' offsets p.at_* are then divisible by 4 too: they are sums of multiples of R and S)
  if (p.R % 32 !== 0 || p.S % 32 !== 0 || p.R > 64 || p.S > 128)
    throw new Error(`gen_voice_lanes: widths R ${p.R}, S ${p.S} must be divisible by 32, at most 64 and 128`);
  for (const [name, offset] of Object.entries(at))
    if (offset % 4 !== 0) throw new Error(`gen_voice_lanes: packed weights ${name} at ${offset}, not divisible by 4`);
  const name = storage === 'f16' ? 'gen_voice_lanes_f16' : 'gen_voice_lanes';
  const k = await engine.kernel(name, { RK: p.R / 32, SK: p.S / 32 });
  return voiceLoopDispatch(k, p, steps, all, at, s);
}

/** The voice loop's two shapes: each output summed by one thread, or every sum split across the workgroup. */
export type VoiceLoopKernel = 'serial' | 'wide';

/**
 * Which voice-loop kernel an engine runs: gen_voice_loop_wide on GPUs (a voice's 256 threads all
 * busy in every product), gen_voice_loop on CPU adapters, where the wide one's extra barriers make
 * it 0.53x (lavapipe, h32_pitch). NSYNTH_VOICE_LOOP=serial|wide overrides (tests, measurement).
 */
export function voiceLoopKernel(engine: Engine): VoiceLoopKernel {
  const forced = typeof process !== 'undefined' ? process.env?.NSYNTH_VOICE_LOOP : undefined;
  if (forced === 'serial' || forced === 'wide') return forced;
  return engine.adapter.type === 'cpu' ? 'serial' : 'wide';
}

/** `steps` whole steps per voice in one dispatch, one workgroup per voice (widths up to 256). */
export async function genVoiceLoop(
  engine: Engine,
  p: GenStepParams,
  steps: number,
  all: GPUBuffer,
  at: AllWeightOffsets,
  s: GenStepBuffers,
): Promise<Dispatch> {
  const name = voiceLoopKernel(engine) === 'wide' ? 'gen_voice_loop_wide' : 'gen_voice_loop';
  return voiceLoopDispatch(await engine.kernel(name), p, steps, all, at, s);
}

/** The voice loops' common bindings (gen_voice_loop, gen_voice_loop_wide, gen_voice_lanes): one workgroup per voice. */
function voiceLoopDispatch(
  k: Kernel,
  p: GenStepParams,
  steps: number,
  all: GPUBuffer,
  at: AllWeightOffsets,
  s: GenStepBuffers,
): Dispatch {
  // a voice loop reads every layer's ring and conditioning: one group (instance.ts keeps it so)
  if (p.groups.length !== 1) throw new Error(`the voice loops need one layer group, got ${p.groups.length}`);
  return k.prepare(
    {
      p: uniforms(p, 0),
      q: { nsteps: steps, w_past: at.wPast, w_cur: at.wCur, w_res_skip: at.wResSkip, small_w: at.small },
      hist: s.hist[0],
      all_w: all,
      ...samplingBindings(s),
    },
    [p.B],
  );
}

/**
 * The fused path's workgroup shape (the override constants of kernels/lib_gen_layer_fused.wgsl, or
 * with `layout: 'rows'` of lib_gen_layer_rows.wgsl): C4 output vec4s per workgroup, the reduction
 * split KS ways (a power of two), VT voices per workgroup (at most 8, at most KS). The default
 * layout stores the matrices [in][out] and runs C4 * KS threads (at most 256, C4 * KS * VT <= 512);
 * `rows` stores them [out][in], a row per output, and runs 4 * C4 * KS threads (at most 256), the
 * KS threads of a row reading it contiguously (for wide GPUs). Chosen per adapter by timing
 * (src/generate/tuning.ts).
 */
export interface FusedShape {
  C4: number;
  KS: number;
  VT: number;
  layout?: 'rows';
}

/** Threads per workgroup of a fused shape. */
export function fusedThreads(s: FusedShape): number {
  return s.layout === 'rows' ? 4 * s.C4 * s.KS : s.C4 * s.KS;
}

/** A fused shape's own rules, whatever the config (throws naming them). */
export function checkFusedShapeRules(s: FusedShape): void {
  const pow2 = (n: number) => Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
  const WG = fusedThreads(s);
  const ok =
    pow2(s.C4) &&
    pow2(s.KS) &&
    WG <= 256 &&
    Number.isInteger(s.VT) &&
    s.VT >= 1 &&
    s.VT <= 8 &&
    (s.layout === undefined || s.layout === 'rows');
  // every voice's partials sit in workgroup memory at once (16 KB), and slice k sums voice k
  const partials = s.layout === 'rows' ? 2 * WG * s.VT * 4 : 2 * WG * s.VT * 16;
  if (!ok || partials > 16384 || s.KS < s.VT)
    throw new Error(
      `fused shape C4 ${s.C4} KS ${s.KS} VT ${s.VT}${s.layout ? ` ${s.layout}` : ''}: C4 and KS powers of two, ` +
        `at most 256 threads (C4*KS, or 4*C4*KS in rows), VT in 1..8, KS >= VT, partials within 16 KB`,
    );
}

/** A fused shape's rules, and that its output tiles divide the config's widths. */
export function checkFusedShape(s: FusedShape, R: number, S: number): void {
  checkFusedShapeRules(s);
  if ((R / 4) % s.C4 || (S / 4) % s.C4)
    throw new Error(`fused shape C4 ${s.C4}: must divide R/4 (${R / 4}) and S/4 (${S / 4})`);
}

/** The buffers the fused path adds: the start kernel's [l | s] and the two swapping activation buffers. */
export interface FusedBuffers {
  /** [B][2R+S] each: [l | s | g], read by one layer and written by the next. */
  acts: [GPUBuffer, GPUBuffer];
}

/**
 * Layer `layer` on the fused path: its gate from the previous layer's l and g (residual folded into
 * the tap), the previous layer's residual and skip, and l pushed into this layer's ring.
 */
export async function genLayerFused(
  engine: Engine,
  p: GenStepParams,
  layer: number,
  shape: FusedShape,
  w: { gate: GPUBuffer; resSkip: GPUBuffer; small: GPUBuffer; storage: 'f32' | 'f16' },
  s: GenStepBuffers,
  f: FusedBuffers,
): Promise<Dispatch> {
  checkFusedShape(shape, p.R, p.S);
  const rows = shape.layout === 'rows';
  const name = `gen_layer_${rows ? 'rows' : 'fused'}${w.storage === 'f16' ? '_f16' : ''}`;
  const k = await engine.kernel(name, {
    C4: shape.C4,
    WG: fusedThreads(shape),
    VT: shape.VT,
    ...(rows ? { RQ: p.R / 4 } : {}),
  });
  // layer i reads acts[(i - 1) % 2] and writes acts[i % 2]; layer 0 reads the start kernel's [l | s]
  const aIn = layer === 0 ? s.lAndS : f.acts[(layer - 1) % 2];
  const tiles = (p.R + p.R + p.S) / 4 / shape.C4;
  return k.prepare(
    {
      p: uniforms(p, layer),
      state: s.state,
      past: s.past,
      w_gate: w.gate,
      w_res_skip: w.resSkip,
      small_w: w.small,
      a_in: aIn,
      a_out: f.acts[layer % 2],
      hist: s.hist[groupOfLayer(p, layer)],
    },
    [tiles, Math.ceil(p.B / shape.VT)],
  );
}

/** The fused path's last dispatch: the last layer's skip, the head, sampling and feedback. */
export async function genHeadFused(
  engine: Engine,
  p: GenStepParams,
  wResSkip: GPUBuffer,
  small: GPUBuffer,
  s: GenStepBuffers,
  f: FusedBuffers,
): Promise<Dispatch> {
  const k = await engine.kernel('gen_head_fused');
  return k.prepare(
    {
      p: uniforms(p, p.L - 1),
      acts: f.acts[(p.L - 1) % 2],
      w_res_skip: wResSkip,
      small_w: small,
      ...samplingBindings(s),
    },
    [p.B],
  );
}
