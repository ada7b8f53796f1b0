// Runs a piece of generation with a kernel choice forced through the environment, read when an
// instance is built: the layered path's step-start, gate and res/skip kernels (NSYNTH_KERNELS,
// src/gpu/lanes.ts: tiles or lanes) or the voice loop's kernel (NSYNTH_VOICE_LOOP,
// src/ops/gen-step.ts voiceLoopKernel: serial or wide).
import type { NSynthModel } from '../../src/nsynth.js';
import { muLawQuantizeArray } from '../../src/ops/mu-law.js';
import { collect, note } from '../generate-helpers.js';
export async function withKernels<T>(
  kernels: 'tiles' | 'lanes' | 'serial' | 'wide' | null,
  f: () => Promise<T>,
): Promise<T> {
  if (!kernels) return f();
  const name = kernels === 'serial' || kernels === 'wide' ? 'NSYNTH_VOICE_LOOP' : 'NSYNTH_KERNELS';
  const before = process.env[name];
  process.env[name] = kernels;
  try {
    return await f();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}

/**
 * `voices` seeded notes of T samples (note(seed0 + v, T)) through `model`: the decoder's teacher-
 * forced logits, and a runner of the layered path, teacher-forced over the same notes, with a
 * kernel set and weight storage forced.
 */
export async function layeredTeacherForcing(
  model: NSynthModel,
  voices: number,
  T: number,
  seed0: number,
  pitch: { pitch?: number } = {},
) {
  const notes = Array.from({ length: voices }, (_, v) => note(seed0 + v, T));
  const emb = await model.encode(notes);
  const full = await model.teacherForcedLogits(notes, emb, pitch);
  const teacher = notes.map((n) => muLawQuantizeArray(n).classes);
  const run = (kernels: 'tiles' | 'lanes', weightStorage: 'f32' | 'f16' = 'f32') =>
    withKernels(kernels, () =>
      collect(
        model.stream(emb, {
          teacher,
          recordLogits: true,
          path: 'layered',
          weightStorage,
          firstChunkSize: T,
          chunkSize: T,
          ...pitch,
        }),
      ),
    );
  return { full: full.data, run };
}
