// Which generation kernels run best on this adapter, found by timing them at first use and
// remembered per adapter. The candidates are the path the measured rules pick (route.ts choosePath),
// the voice loop where the widths allow it, and the fused path in the workgroup shapes below; each runs a few real steps of the model at the
// batch asked (rounded up to a power of two), the fastest wins, and the choice is stored under a key
// naming the adapter, the config's widths, the batch bucket and the weight storage: in Node in a
// JSON file (tuning-file.ts), in a browser in localStorage, else for the session.
import { conditioningWidth, decoderLayers, type ModelConfig } from '../model/config.js';
import { checkFusedShapeRules, type FusedShape, type VoiceLoopKernel, voiceLoopKernel } from '../ops/gen-step.js';
import type { Engine } from '../gpu/engine.js';
import type { WeightStorage } from './fused-weights.js';
import { voiceLoopFits } from './gen-weights.js';
import type { GenerateOptions, GeneratorInternals, GeneratorResources, ResolvedPath } from './types.js';

/**
 * The fused path's workgroup shapes the tuner tries: from one output vec4 per workgroup with a
 * 64-way split reduction (the most workgroups at batch 1, for wide GPUs) to 8 outputs x 8 slices
 * (fewer, fatter workgroups, for CPU adapters), with voice tiles of 1, 4 and 8.
 */
export const FUSED_SHAPES: FusedShape[] = [
  { C4: 1, KS: 64, VT: 1 },
  { C4: 2, KS: 32, VT: 1 },
  { C4: 4, KS: 16, VT: 1 },
  { C4: 8, KS: 8, VT: 1 },
  { C4: 4, KS: 16, VT: 4 },
  { C4: 8, KS: 16, VT: 4 },
  { C4: 8, KS: 8, VT: 8 },
];

/**
 * Shapes only GPUs try (adapters that are not CPUs): 128 and 256 threads a workgroup with one or two
 * output vec4s each, so that a batch-1 layer's few hundred workgroups keep more loads in flight. On
 * an H200 the widest of FUSED_SHAPES (64 threads, one vec4) won at batch 1 and read at 9% of the
 * probe's bandwidth (bench/RESULTS.md).
 */
export const GPU_FUSED_SHAPES: FusedShape[] = [
  { C4: 1, KS: 128, VT: 1 },
  { C4: 1, KS: 256, VT: 1 },
  { C4: 2, KS: 128, VT: 1 },
  { C4: 1, KS: 128, VT: 4 },
  { C4: 2, KS: 64, VT: 4 },
  // The matrices a row per output (lib_gen_layer_rows.wgsl): a warp reads one contiguous run of a
  // row, the batch-1 matrix-vector shape that reaches a GPU's bandwidth elsewhere; 4 to 16 rows of
  // 16 to 64 threads a workgroup, and voice tiles of 4 and 8 for batches (each weight read serving
  // more voices: at batch 64 the columns layout's tiles of 4 re-read every weight 16 times a step).
  { C4: 1, KS: 64, VT: 1, layout: 'rows' },
  { C4: 2, KS: 32, VT: 1, layout: 'rows' },
  { C4: 4, KS: 16, VT: 1, layout: 'rows' },
  { C4: 2, KS: 32, VT: 4, layout: 'rows' },
  { C4: 4, KS: 16, VT: 4, layout: 'rows' },
  { C4: 2, KS: 32, VT: 8, layout: 'rows' },
];

/** Bump when the kernels change in a way that makes stored choices stale. */
// 2: timings repeated against a browser's jitter; 3: the rules' path kept unless beaten by 10%;
// 4: the layered path runs the subgroup-lanes gate and res/skip kernels on CPU adapters (faster, so
// choices timed against the old ones are stale); 5: on GPUs the voice loop splits its sums across
// its workgroup and is a candidate at every batch, the GPU-only fused shapes and both weight
// storages are timed; 6: the layered path in f16 storage is a candidate where f16 storage is timed,
// and a challenger of the rules' path is timed again before it wins; 7: the layered path's rule is
// f16 where the adapter has shader-f16; 8: the fused path's rows layout among the GPU shapes;
// 9: on CPU adapters the layered path's lanes kernels run a lone voice too, and its step start is
// faster (choices timed against the old kernels are stale)
const TUNING_VERSION = 9;

/**
 * A generation plan: the path, on the fused path its shape and weight storage, and on the layered
 * path the storage of its matrices (f32 where absent).
 */
export interface Plan {
  path: ResolvedPath;
  fused?: { shape: FusedShape; storage: WeightStorage };
  layered?: { storage: WeightStorage };
}

export interface TunedEntry extends Plan {
  /** Steps per second of the winner and of every candidate, as measured (for reports). */
  stepsPerSecond: number;
  candidates: { label: string; stepsPerSecond: number }[];
  measuredAt: string;
}

/** Where choices are remembered. */
export interface TuningStore {
  get(key: string): TunedEntry | undefined;
  set(key: string, entry: TunedEntry): void;
}

class MemoryStore implements TuningStore {
  private map = new Map<string, TunedEntry>();
  get(key: string) {
    return this.map.get(key);
  }
  set(key: string, e: TunedEntry) {
    this.map.set(key, e);
  }
}

class LocalStorageStore implements TuningStore {
  constructor(private ls: Storage) {}
  get(key: string) {
    const v = this.ls.getItem(`nsynth-tuning:${key}`);
    try {
      return v ? (JSON.parse(v) as TunedEntry) : undefined;
    } catch {
      return undefined;
    }
  }
  set(key: string, e: TunedEntry) {
    try {
      this.ls.setItem(`nsynth-tuning:${key}`, JSON.stringify(e));
    } catch {
      // storage full or denied: the choice holds for this session only
    }
  }
}

let store: Promise<TuningStore> | null = null;

/** The default store: a JSON file in Node (NSYNTH_TUNING_CACHE, else ~/.cache), localStorage in a browser. */
function defaultStore(): Promise<TuningStore> {
  store ??= (async () => {
    const g = globalThis as { process?: { versions?: { node?: string } }; localStorage?: Storage };
    if (g.process?.versions?.node) {
      const { fileStore } = await import('./tuning-file.js');
      const s = fileStore();
      if (s) return s;
    }
    if (g.localStorage) return new LocalStorageStore(g.localStorage);
    return new MemoryStore();
  })();
  return store;
}

/** Replaces where choices are kept (tests; an app that keeps its own settings). */
export function setTuningStore(s: TuningStore | null): void {
  store = s ? Promise.resolve(s) : null;
}

/** Whether `auto` may time kernels: NSYNTH_TUNING=off (Node) keeps the measured rules alone. */
export function tuningEnabled(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.NSYNTH_TUNING !== 'off';
}

/** Batches share a choice within a power of two (1, 2, 4, ... 256 and above). */
export function batchBucket(B: number): number {
  return Math.min(256, 2 ** Math.ceil(Math.log2(Math.max(1, B))));
}

export function tuningKey(engine: Engine, c: ModelConfig, B: number, storage: WeightStorage | WeightStorage[]): string {
  const a = engine.adapter;
  const d = c.decoder;
  return [
    `v${TUNING_VERSION}`,
    a.vendor,
    a.architecture,
    a.device,
    a.description,
    a.backend,
    `R${d.residual}S${d.skip}L${decoderLayers(c)}x${d.layersPerStage}`,
    `B${batchBucket(B)}`,
    [storage].flat().join('+'),
    // (which voice loop was timed: NSYNTH_VOICE_LOOP can force the other one)
    `vl-${voiceLoopKernel(engine)}`,
  ].join('|');
}

/**
 * The fused shapes worth timing at a batch: voice tiles only where there are voices to share them,
 * and the rows layout only where a row has a vec4 for each of its threads (h512_bo16's rows have
 * 128-256; the default model's 8, where those shapes would leave most threads idle).
 */
export function shapesFor(c: ModelConfig, B: number, gpu = false): FusedShape[] {
  const { residual: R, skip: S } = c.decoder;
  const shapes = gpu ? [...FUSED_SHAPES, ...GPU_FUSED_SHAPES] : FUSED_SHAPES;
  return shapes
    .filter((s) => (R / 4) % s.C4 === 0 && (S / 4) % s.C4 === 0)
    .filter((s) => s.layout !== 'rows' || R / 4 >= s.KS)
    .filter((s) => (B <= 2 ? s.VT === 1 : s.VT > 1 || (s.C4 === 4 && s.KS === 16 && !s.layout)));
}

/** What the tuner tries beyond the rules' path, from the adapter (see tuningCandidates). */
export interface CandidateOptions {
  /**
   * The fused path's weight storages to time (under `auto` on a GPU both; else the one asked or
   * ruled).
   */
  storages: WeightStorage[];
  /** The voice loop's kernel on this engine: only the wide one is tried beyond the rules. */
  voiceLoop: VoiceLoopKernel;
  /** A GPU (not a CPU adapter): the GPU-only fused shapes are tried too. */
  gpu: boolean;
  /**
   * The layered path's storages, the rules' first (resolvePlan: as asked, else f16 where the
   * adapter has shader-f16, then under `auto` the other); by default f32, then f16 where `storages`
   * has it.
   */
  layered?: WeightStorage[];
}

/** The layered path in a storage. */
export function layeredPlan(storage: WeightStorage): Plan {
  return storage === 'f16' ? { path: 'layered', layered: { storage: 'f16' } } : { path: 'layered' };
}

/** What the tuner times for a config at a batch bucket, the rules' path first. */
export function tuningCandidates(c: ModelConfig, bucket: number, rulePath: ResolvedPath, o: CandidateOptions): Plan[] {
  // The layered path in its storages, the rules' first. f16 pairs: on lavapipe (h512_bo16, 2-core
  // VM) 1.1-1.4x at batch 16 and 1.0-1.25x at 32 (the lanes kernels read weights lane by lane: half
  // the bytes a read), against a rounding of the weights that moves logits by ~1e-3.
  const layered = o.layered ?? ['f32' as const, ...(o.storages.includes('f16') ? (['f16'] as const) : [])];
  return [
    ...(rulePath === 'layered' ? layered.map(layeredPlan) : [{ path: rulePath }]),
    // The wide voice loop at every batch where the widths fit: on a GPU each voice gets a compute
    // unit of its own and a step needs no dispatch at all, so it can win at any batch. (The serial
    // one, on CPU adapters, only where the rules pick it: at batch 1-2 of small models.)
    ...(rulePath !== 'voice-loop' && o.voiceLoop === 'wide' && voiceLoopFits(c)
      ? [{ path: 'voice-loop' as const }]
      : []),
    ...o.storages.flatMap((storage) =>
      shapesFor(c, bucket, o.gpu).map((shape) => ({ path: 'fused' as const, fused: { shape, storage } })),
    ),
  ];
}

/**
 * The fused path's weight storages `auto` times on an engine: on GPUs both f32 and f16 pairs (the
 * pairs halve the bytes and need no feature; an H200 through Dawn offers no shader-f16, which
 * fusedStorage takes as the sign of hardware); elsewhere just `ruled`.
 */
export function storagesToTime(
  engine: Engine,
  requested: 'auto' | WeightStorage | undefined,
  ruled: WeightStorage,
): WeightStorage[] {
  return (requested ?? 'auto') === 'auto' && isGpu(engine) ? ['f32', 'f16'] : [ruled];
}

/** Whether the engine's adapter is a GPU rather than a CPU (lavapipe, SwiftShader). */
export function isGpu(engine: Engine): boolean {
  return engine.adapter.type !== 'cpu';
}

/**
 * A fused shape from its words in planLabel (`16x16`, `16x16 v4`, `rows 8x32`; spaces optional, a
 * colon after `rows` too): outputs x the split, then the voice tile. Null where the text is not
 * one or breaks a rule that holds for every config (checkFusedShapeRules: powers of two, at most 256
 * threads, VT 1..8 and at most the split); whether the config's widths fit is checked at use.
 */
export function parseFusedShape(text: string): FusedShape | null {
  const m = /^\s*(rows\s*:?\s*)?(\d+)\s*x\s*(\d+)\s*(?:v\s*(\d+))?\s*$/i.exec(text);
  if (!m) return null;
  const out = Number(m[2]);
  if (out % 4) return null;
  const plain: FusedShape = { C4: out / 4, KS: Number(m[3]), VT: m[4] === undefined ? 1 : Number(m[4]) };
  const shape: FusedShape = m[1] ? { ...plain, layout: 'rows' } : plain;
  try {
    checkFusedShapeRules(shape);
  } catch {
    return null;
  }
  return shape;
}

export function planLabel(p: Plan): string {
  if (p.path === 'layered' && p.layered?.storage === 'f16') return 'layered f16';
  if (p.path !== 'fused' || !p.fused) return p.path;
  const { shape: s, storage } = p.fused;
  return `fused ${storage}${s.layout === 'rows' ? ' rows' : ''} ${s.C4 * 4}x${s.KS}${s.VT > 1 ? ` v${s.VT}` : ''}`;
}

type Runner = (plan: Plan, steps: number, o: GenerateOptions & GeneratorInternals) => Promise<void>;

/**
 * Times every candidate at batch B (real steps of this model on this adapter) and returns the
 * fastest, stored for next time. `run` generates `steps` steps of B one-frame voices with a plan.
 */
export async function tune(
  r: GeneratorResources,
  B: number,
  rulePath: ResolvedPath,
  storages: WeightStorage[],
  run: Runner,
  onLog?: (line: string) => void,
  layered?: WeightStorage[],
): Promise<TunedEntry> {
  const key = tuningKey(r.engine, r.config, B, storages);
  const s = await defaultStore();
  const have = s.get(key);
  if (have) return have;
  const bucket = batchBucket(B);
  const candidates = tuningCandidates(r.config, bucket, rulePath, {
    storages,
    voiceLoop: voiceLoopKernel(r.engine),
    gpu: isGpu(r.engine),
    layered,
  });
  const results: { plan: Plan; label: string; stepsPerSecond: number }[] = [];
  for (const [k, plan] of candidates.entries()) {
    const label = planLabel(plan);
    try {
      const perStep = await secondsPerStep((steps) => run(plan, steps, {}));
      results.push({ plan, label, stepsPerSecond: 1 / perStep });
      onLog?.(`tuning ${r.config.name} batch ${bucket}: ${label} ${(1 / perStep).toFixed(1)} steps/s`);
    } catch (e) {
      // a candidate this adapter cannot run (a limit, memory) drops out; the rule's path must run
      if (k === 0) throw e;
      r.engine.checkHealthy();
      onLog?.(`tuning ${r.config.name} batch ${bucket}: ${label} failed: ${(e as Error).message}`);
    }
  }
  // The rules' path stays unless another is clearly faster: on a loaded machine (a browser beside
  // other work) a few percent is noise, and a wrong switch can cost 3x. A challenger is timed again
  // beside the rule before it wins, and each keeps its less flattering figure (the challenger the
  // slower of its two, the rule the faster): a run slowed by other work in the middle of a
  // difference once made a fused shape 3x faster than it is (lavapipe, h512_bo16 at batch 16).
  const rule = results.find((x) => x.plan === candidates[0]);
  const confirmed = new Set<(typeof results)[number]>();
  const again = async (x: (typeof results)[number]) => 1 / (await secondsPerStep((steps) => run(x.plan, steps, {})));
  for (;;) {
    results.sort((a, b) => b.stepsPerSecond - a.stepsPerSecond);
    const top = results[0];
    if (!rule || top === rule || confirmed.has(top) || top.stepsPerSecond < RULE_MARGIN * rule.stepsPerSecond) break;
    confirmed.add(top);
    try {
      top.stepsPerSecond = Math.min(top.stepsPerSecond, await again(top));
    } catch (e) {
      // a challenger that fails the second time drops out (the rule's failure is not caught)
      r.engine.checkHealthy();
      onLog?.(`tuning ${r.config.name} batch ${bucket}: ${top.label} failed when timed again: ${(e as Error).message}`);
      results.splice(results.indexOf(top), 1);
      continue;
    }
    if (!confirmed.has(rule)) {
      rule.stepsPerSecond = Math.max(rule.stepsPerSecond, await again(rule));
      confirmed.add(rule);
    }
    onLog?.(
      `tuning ${r.config.name} batch ${bucket}: timed again, ${top.label} ${top.stepsPerSecond.toFixed(1)} ` +
        `against ${rule.label} ${rule.stepsPerSecond.toFixed(1)} steps/s`,
    );
  }
  const best = rule && results[0].stepsPerSecond < RULE_MARGIN * rule.stepsPerSecond ? rule : results[0];
  const entry: TunedEntry = {
    ...best.plan,
    stepsPerSecond: best.stepsPerSecond,
    candidates: results.map(({ label, stepsPerSecond }) => ({ label, stepsPerSecond })),
    measuredAt: new Date().toISOString(),
  };
  s.set(key, entry);
  return entry;
}

/** Seconds a run of n steps aims for, fixed cost included: a browser's GPU process adds milliseconds of jitter. */
const TARGET_RUN_SECONDS = 0.15;
/** Most steps in one timed run: 2n of them fit in tuningInput's frames. */
const MAX_RUN_STEPS = 256;
/** How much faster than the rules' path another candidate must be to replace it. */
const RULE_MARGIN = 1.1;
/** Time spent on one candidate before its timing stops being repeated. */
const REPEAT_BUDGET_SECONDS = 1;

/**
 * Seconds per step of a plan. A run has a fixed cost (the instance's buffers and bind groups, the
 * conditioning, the drain) that a few steps of a large model on a CPU adapter would not hide, so a
 * step's time is the difference between a run of 2n steps and one of n, n grown until a run takes
 * TARGET_RUN_SECONDS. Each is the least of up to three runs (noise only adds time) while the
 * candidate has taken under a second: in Chrome on SwiftShader a single pair of short runs put a
 * path 3x slower first.
 */
async function secondsPerStep(run: (steps: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  await run(2); // compiles the pipelines, packs the weights
  let n = 2;
  let t1 = await timed(() => run(n));
  while (t1 < TARGET_RUN_SECONDS && n < MAX_RUN_STEPS) {
    n = Math.min(MAX_RUN_STEPS, Math.max(2 * n, Math.ceil((n * TARGET_RUN_SECONDS) / Math.max(t1, 1e-4))));
    t1 = await timed(() => run(n));
  }
  let t2 = await timed(() => run(2 * n));
  for (let k = 1; k < 3 && (performance.now() - start) / 1000 < REPEAT_BUDGET_SECONDS; k++) {
    t1 = Math.min(t1, await timed(() => run(n)));
    t2 = Math.min(t2, await timed(() => run(2 * n)));
  }
  // (a noisy machine can make the difference tiny or negative: fall back to the whole run)
  return t2 - t1 > 0.1 * (t2 / (2 * n)) ? (t2 - t1) / n : t2 / (2 * n);
}

async function timed(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

/** One frame of conditioning input per voice (zeros: the cost does not depend on the values). */
export function tuningInput(c: ModelConfig, B: number): { frames: number; cond: Float32Array } {
  const frames = Math.ceil(512 / c.hop) + 1;
  return { frames, cond: new Float32Array(B * frames * conditioningWidth(c)) };
}
