// What the step-timing scripts in bench/ share (kernel-ab.mjs, layered-kernels.mjs): a batch of
// smooth synthetic embeddings long enough for `steps` steps, and the seconds a stream of n steps
// takes (a step's time is then the difference of a long and a short stream, so fixed costs cancel).

/** B voices of embeddings for `steps` steps (and a few more) of model config c. */
export function syntheticEmbeddings(c, B, steps) {
  const frames = Math.ceil((steps + 8) / c.hop);
  return {
    data: Float32Array.from({ length: B * frames * c.bottleneck }, (_, i) => Math.sin(i * 0.37)),
    shape: [B, frames, c.bottleneck],
  };
}

/** Seconds `model` takes to stream n steps of `emb` with generation options `options` (seed 1, one chunk). */
export async function streamSeconds(model, emb, n, options) {
  const pitch = model.config.pitchConditioning ? 60 : undefined;
  const t0 = performance.now();
  for await (const _ of model.stream(emb, {
    pitch,
    seed: 1,
    ...options,
    stopAfter: n,
    firstChunkSize: n,
    chunkSize: n,
  }));
  return (performance.now() - t0) / 1000;
}
