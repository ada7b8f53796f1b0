// Runs a piece of generation with the layered path's step-start, gate and res/skip kernels forced:
// through NSYNTH_KERNELS (src/gpu/lanes.ts), which genStepStart / genGate / genResSkip read when an
// instance is built.
export async function withKernels<T>(kernels: 'tiles' | 'lanes' | null, f: () => Promise<T>): Promise<T> {
  if (!kernels) return f();
  const before = process.env.NSYNTH_KERNELS;
  process.env.NSYNTH_KERNELS = kernels;
  try {
    return await f();
  } finally {
    if (before === undefined) delete process.env.NSYNTH_KERNELS;
    else process.env.NSYNTH_KERNELS = before;
  }
}
