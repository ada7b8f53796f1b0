// Which generation path runs a config at a batch, and what each costs per step.
import { decoderLayers, type ModelConfig } from '../model/config.js';
import { VOICE_LOOP_STEPS } from '../ops/gen-step.js';
import { voiceLoopFits } from './gen-weights.js';
import type { GenerationPath } from './types.js';

export { VOICE_LOOP_STEPS, VOICE_TILE } from '../ops/gen-step.js';

/**
 * The measured choice (README, "Fast generation"; lavapipe): one workgroup per voice is 2.2x
 * faster than the layered path for `tiny` (0.6 MB of step weights) at batch 1, but slower at
 * batch 4, and slower for `h128_bo16` (15 MB) even at batch 1 (91 vs 123 samples/s): it pays off
 * only while the step's weights stay close to one core or compute unit.
 */
export function choosePath(c: ModelConfig, requested: GenerationPath = 'auto', batch = 1): 'layered' | 'voice-loop' {
  if (requested === 'voice-loop' && !voiceLoopFits(c))
    throw new Error(`config ${c.name}: the voice-loop path supports residual and skip widths up to 256`);
  if (requested !== 'auto') return requested;
  return voiceLoopFits(c) && stepWeightBytes(c) <= 2 * 1024 * 1024 && batch <= 2 ? 'voice-loop' : 'layered';
}

/** Bytes of weights one generation step reads (f32). */
export function stepWeightBytes(c: ModelConfig): number {
  const { residual: R, skip: S } = c.decoder;
  const L = decoderLayers(c);
  return 4 * (L * (3 * R * 2 * R + R * (R + S)) + 4 * R + R * S + S * S + S * 257);
}

export function dispatchesPerStep(c: ModelConfig, path: GenerationPath = 'auto', batch = 1): number {
  return choosePath(c, path, batch) === 'voice-loop' ? 1 / VOICE_LOOP_STEPS : 2 * decoderLayers(c) + 2;
}
