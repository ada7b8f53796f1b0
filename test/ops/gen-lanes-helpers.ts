// Runs a piece of generation with a kernel choice forced through the environment, read when an
// instance is built: the layered path's step-start, gate and res/skip kernels (NSYNTH_KERNELS,
// src/gpu/lanes.ts: tiles or lanes) or the voice loop's kernel (NSYNTH_VOICE_LOOP,
// src/ops/gen-step.ts voiceLoopKernel: serial or wide).
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
