// Which generation path runs a config at a batch, and what each costs per step.
import { decoderLayers, type ModelConfig } from '../model/config.js';
import { VOICE_LOOP_STEPS } from '../ops/gen-step.js';
import { voiceLanesFit, voiceLoopFits } from './gen-weights.js';
import type { GenerationPath, ResolvedPath } from './types.js';

export { VOICE_LOOP_STEPS, VOICE_TILE } from '../ops/gen-step.js';

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
  return choosePath(c, path, batch, lanes) === 'layered' ? 2 * decoderLayers(c) + 2 : 1 / VOICE_LOOP_STEPS;
}
