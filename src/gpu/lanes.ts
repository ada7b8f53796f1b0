// Whether to use the "lanes" kernels (kernels/*_lanes.wgsl): shaped for CPU adapters, where a
// subgroup is one SIMD register and every per-lane read of memory is a scalar load per lane, so
// the operand all lanes share is read once per subgroup and passed round by subgroupBroadcast.
import type { Engine } from './engine.js';

/** Whether the engine can run the lanes kernels: the subgroups feature with subgroups of at least 8 lanes. */
export function lanesSupported(engine: Engine): boolean {
  return engine.features.has('subgroups') && engine.adapter.subgroupMinSize >= 8;
}

/**
 * Whether the lanes kernels are the default on this engine: on CPU adapters that support them.
 * On lavapipe (2 cores) the lanes convolutions are 2-5x faster than the better tile
 * (`nsynth bench conv-tiles`) and the voice-lanes generation path 2.1-2.4x faster than the voice
 * loop (`nsynth bench generate`); on GPUs the tiles keep the workgroup-memory reuse a GPU needs.
 * The environment variable NSYNTH_KERNELS=tiles|lanes overrides the choice for both (for
 * measurement).
 */
export function lanesPreferred(engine: Engine): boolean {
  const forced = typeof process !== 'undefined' ? process.env?.NSYNTH_KERNELS : undefined;
  if (forced === 'tiles') return false;
  if (forced === 'lanes') return lanesSupported(engine);
  return engine.adapter.type === 'cpu' && lanesSupported(engine);
}

/** Both answers, as generation's path choice takes them: what may be requested, and what `auto` picks. */
export function lanesOf(engine: Engine): { supported: boolean; preferred: boolean } {
  return { supported: lanesSupported(engine), preferred: lanesPreferred(engine) };
}
