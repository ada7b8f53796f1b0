// Which generation path runs a config at a batch, and what each costs per step.
import { decoderLayers, type ModelConfig } from '../model/config.js';
import { VOICE_LOOP_STEPS, VOICE_TILE as VOICE_TILE_OF_LAYERED } from '../ops/gen-step.js';
import { voiceLanesFit, voiceLoopFits } from './gen-weights.js';
import type { GenerationPath, GeneratorResources, ResolvedPath } from './types.js';
import type { FusedShape } from '../ops/gen-step.js';
import type { WeightStorage } from './fused-weights.js';

export { VOICE_LOOP_STEPS, VOICE_TILE } from '../ops/gen-step.js';
/**
 * Within the layered path, which gate and res/skip kernels run (decided per dispatch from the
 * engine, so `auto` and a forced `layered` both get them): the subgroup-lanes shapes on CPU
 * adapters with subgroups, the tiled ones elsewhere.
 */
export { type LayeredKernels, layeredKernels } from '../ops/gen-step.js';

/** What the adapter allows of the lanes kernels (src/gpu/lanes.ts, lanesOf): may they run, and are they preferred. */
export interface LanesChoice {
  supported: boolean;
  preferred: boolean;
}
const NO_LANES: LanesChoice = { supported: false, preferred: false };

/**
 * The path for a config at a batch. On CPU adapters with subgroups, voice-lanes (see
 * VOICE_LANES_MAX_BATCH). Otherwise the measured choice (README, "Fast generation"; lavapipe): one
 * workgroup per voice is 2.2x faster than the layered path for `tiny` (0.6 MB of step weights) at
 * batch 1, but slower at batch 4, and slower for `h128_bo16` (15 MB) even at batch 1 (91 vs 123
 * samples/s): it pays off only while the step's weights stay close to one core or compute unit.
 */
export function choosePath(
  c: ModelConfig,
  requested: GenerationPath = 'auto',
  batch = 1,
  lanes: LanesChoice = NO_LANES,
): ResolvedPath {
  if (requested === 'voice-loop' && !voiceLoopFits(c))
    throw new Error(`config ${c.name}: the voice-loop path supports residual and skip widths up to 256`);
  if (requested === 'voice-lanes' && !(lanes.supported && voiceLanesFit(c)))
    throw new Error(
      `config ${c.name}: the voice-lanes path needs the subgroups feature (8+ lanes) and residual and skip widths ` +
        `divisible by 32, up to 64 and 128`,
    );
  if (requested !== 'auto') return requested;
  if (lanes.preferred && voiceLanesFit(c) && batch <= VOICE_LANES_MAX_BATCH) return 'voice-lanes';
  return voiceLoopFits(c) && stepWeightBytes(c) <= 2 * 1024 * 1024 && batch <= 2 ? 'voice-loop' : 'layered';
}

/**
 * Batches up to which `auto` takes the voice-lanes path on CPU adapters: as far as measured.
 * `nsynth bench generate --config default --batch 1,2,4,8,16,32` (h32_pitch, 2-core lavapipe):
 * voice-lanes (f16 weights) 4,715 / 4,574 / 4,881 / 5,158 / 5,294 / 5,992 samples/s in all, the
 * voice loop and layered paths 815 / 950 / 2,135 / 2,439 / 3,001 / 3,362; with f32 weights
 * (random h32_pitch) voice-lanes 4,632 and layered 3,339 at batch 64.
 */
export const VOICE_LANES_MAX_BATCH = 64;

/** Bytes of weights one generation step reads (f32). */
export function stepWeightBytes(c: ModelConfig): number {
  const { residual: R, skip: S } = c.decoder;
  const L = decoderLayers(c);
  return 4 * (L * (3 * R * 2 * R + R * (R + S)) + 4 * R + R * S + S * S + S * 257);
}

export function dispatchesPerStep(
  c: ModelConfig,
  path: GenerationPath = 'auto',
  batch = 1,
  lanes: LanesChoice = NO_LANES,
): number {
  const chosen = choosePath(c, path, batch, lanes);
  if (chosen === 'layered') return 2 * decoderLayers(c) + 2;
  if (chosen === 'fused') return decoderLayers(c) + 2;
  return 1 / VOICE_LOOP_STEPS;
}

/** The fused path's workgroup shape where nothing was tuned or forced: 16 outputs x 16 slices, one voice. */
export const DEFAULT_FUSED_SHAPE: FusedShape = { C4: 4, KS: 16, VT: 1 };

/**
 * The fused and the layered path's weight storage for a run: as asked, else f16 where the adapter has shader-f16
 * (hardware with half-precision support, where halving a bandwidth-bound step's bytes pays), else
 * f32. The kernel itself reads f16 pairs with unpack2x16float and needs no feature. The folded
 * products are not exact halves even for a model stored in f16, so f16 storage rounds them: the
 * logits move by about 1e-3 (test/ops/gen-fused.test.ts measures it).
 */
export function fusedStorage(r: GeneratorResources, o: { weightStorage?: 'auto' | 'f32' | 'f16' }): WeightStorage {
  if (o.weightStorage === 'f16' || o.weightStorage === 'f32') return o.weightStorage;
  return r.engine.device.features.has('shader-f16') ? 'f16' : 'f32';
}

/**
 * What one step of B voices costs on a plan: dispatches, and bytes of weights streamed (each voice
 * tile re-reads the weights; f16 storage halves the big matrices; the voice loops read everything
 * once per voice). `layerGroups`: the instance's layer groups (instance.ts), each with a step-start
 * dispatch of its own.
 */
export function planCost(
  c: ModelConfig,
  plan: {
    path: ResolvedPath;
    fused?: { shape: FusedShape; storage: WeightStorage };
    layered?: { storage: WeightStorage };
  },
  B: number,
  voiceLanesF16 = false,
  layerGroups = 1,
): { dispatchesPerStep: number; weightBytesPerStep: number; weightStorage: WeightStorage } {
  const { residual: R, skip: S } = c.decoder;
  const L = decoderLayers(c);
  const small = 4 * (4 * R + R * S + S * S + S * 257);
  if (plan.path === 'fused' && plan.fused) {
    const half = plan.fused.storage === 'f16' ? 2 : 4;
    const big = L * 2 * R * 2 * R * 2 + L * R * (R + S); // past taps, gate (with the fold), res|skip
    return {
      dispatchesPerStep: L + 1 + layerGroups,
      weightBytesPerStep: (big * half + small) * Math.ceil(B / plan.fused.shape.VT),
      weightStorage: plan.fused.storage,
    };
  }
  if (plan.path === 'layered') {
    // f16 storage halves the past taps (L x 2R x 2R), the current taps (L x R x 2R) and [res | skip]
    const f16 = plan.layered?.storage === 'f16';
    const halved = 4 * L * (4 * R * R + 2 * R * R + R * (R + S));
    return {
      dispatchesPerStep: 2 * L + 1 + layerGroups,
      weightBytesPerStep: (stepWeightBytes(c) - (f16 ? halved / 2 : 0)) * Math.ceil(B / VOICE_TILE_OF_LAYERED),
      weightStorage: f16 ? 'f16' : 'f32',
    };
  }
  const f16 = plan.path === 'voice-lanes' && voiceLanesF16;
  return {
    dispatchesPerStep: 1 / VOICE_LOOP_STEPS,
    weightBytesPerStep: (f16 ? stepWeightBytes(c) / 2 : stepWeightBytes(c)) * B,
    weightStorage: f16 ? 'f16' : 'f32',
  };
}
