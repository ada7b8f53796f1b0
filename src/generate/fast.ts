// The fast generator (Fast WaveNet on the GPU): per-layer rings of past layer inputs, the
// conditioning of every layer computed once per frame for all voices, past taps of all layers in
// one dispatch, then per layer the current tap + gate and the residual/skip matvec, and the head
// with softmax sampling. Many steps per submit, no readback per step: the sampled class feeds the
// next step on the GPU and audio comes back in chunks (the engine's pipelined read-back). This file
// runs the chunk loop; instance.ts builds the per-step work, route.ts chooses the path and
// generator.ts batches voices over it.
import { lanesOf } from '../gpu/lanes.js';
import type { PendingRead, ReadRange } from '../gpu/engine.js';
import { destroyDispatches } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { MU_LAW_DECODE_TABLE } from '../ops/mu-law.js';
import { buildInstance, type Instance, maxVoicesPerInstance } from './instance.js';
import { choosePath } from './route.js';
import type { AudioChunk, GenerateOptions, GeneratorInternals, GeneratorResources } from './types.js';

function abortError(): Error {
  const e = new Error('generation was cancelled');
  e.name = 'AbortError';
  return e;
}

/**
 * One generation run: B voices of `frames` frames, `condInput` [B, frames, E] (embedding and
 * pitch). Voices are split into instances that fit the adapter's binding limit and advance in
 * lock-step in the same submits. The generator owns every buffer it allocates and frees them when
 * the iterator finishes, throws or is returned early.
 */
export async function* generateChunks(
  resources: GeneratorResources,
  B: number,
  frames: number,
  condInput: Float32Array,
  o: GenerateOptions & GeneratorInternals = {},
): AsyncGenerator<AudioChunk> {
  const { engine, config: c } = resources;
  const T = frames * c.hop;
  const owned: Tensor[] = [];
  const instances: Instance[] = [];
  const reads: PendingRead[] = [];
  const alloc = (shape: number[], dtype: 'f32' | 'u32' = 'f32') => {
    const t = engine.tensor(shape, dtype);
    owned.push(t);
    return t;
  };
  try {
    const temperature = o.temperature ?? 1;
    if (!(temperature >= 0) || !Number.isFinite(temperature))
      throw new Error(`temperature must be a finite number >= 0, got ${temperature}`);
    if (o.teacher && (o.teacher.length !== B || o.teacher.some((a) => a.length < T)))
      throw new Error(`teacher classes: need ${B} arrays of ${T}`);
    const limits = engine.device.limits;
    const per = Math.min(
      o.maxVoicesPerInstance ?? Infinity,
      maxVoicesPerInstance(
        c,
        frames,
        Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize),
        !!o.recordLogits,
      ),
    );
    const E = condInput.length / (B * frames);
    const path = choosePath(c, o.path, B, lanesOf(engine));
    for (let v0 = 0; v0 < B; v0 += per) {
      const n = Math.min(per, B - v0);
      const spec = {
        voiceBase: v0,
        B: n,
        frames,
        condInput: condInput.subarray(v0 * frames * E, (v0 + n) * frames * E),
        path,
      };
      instances.push(await buildInstance(engine, c, resources.gen, spec, o, alloc));
    }
    // Fresh state (pooled buffers may hold an earlier run's values), then the conditioning.
    engine.clear(...instances.flatMap((i) => i.stateBuffers));
    engine.run(instances.map((i) => i.setup));
    const perStep = instances.reduce((n, i) => n + i.dispatchesPerStep, 0);
    const chunk = Math.max(1, o.chunkSize ?? 4096);
    const first = Math.max(1, Math.min(o.firstChunkSize ?? 512, chunk));
    const perSubmit = Math.max(1, o.stepsPerSubmit ?? Math.floor(4096 / perStep));
    const t0 = performance.now();
    const bounds: [number, number][] = [];
    for (let s = 0; s < T; ) {
      const e = Math.min(T, s + (s === 0 ? first : chunk));
      bounds.push([s, e]);
      s = e;
    }
    // Submits a chunk's steps; the last submit also copies the chunk's classes of every voice.
    const submitChunk = (k: number): PendingRead => {
      const [s, e] = bounds[k];
      const classes: ReadRange[] = instances.flatMap((inst) =>
        Array.from({ length: inst.B }, (_, b) => ({
          tensor: inst.classes,
          offset: (b * T + s) * 4,
          bytes: (e - s) * 4,
        })),
      );
      for (let t = s; ; t += perSubmit) {
        const steps = Math.min(perSubmit, e - t);
        const last = t + steps >= e;
        const pending = engine.submit(
          (pass) => {
            for (const inst of instances) inst.encodeSteps(pass, steps);
          },
          last ? classes : [],
        );
        if (last) {
          reads.push(pending!);
          return pending!;
        }
      }
    };
    // One chunk ahead: the GPU runs chunk k+1 while chunk k is read back and handed out.
    let pending = submitChunk(0);
    for (let k = 0; k < bounds.length; k++) {
      if (o.signal?.aborted) throw abortError();
      const next = k + 1 < bounds.length ? submitChunk(k + 1) : null;
      const [s, e] = bounds[k];
      const all = new Uint32Array(await pending.data());
      reads.splice(reads.indexOf(pending), 1);
      const n = e - s;
      const cls = Array.from({ length: B }, (_, b) => all.slice(b * n, (b + 1) * n));
      const audio = cls.map((a) => Float32Array.from(a, (v) => MU_LAW_DECODE_TABLE[v]));
      const elapsed = (performance.now() - t0) / 1000;
      o.onProgress?.({ done: e, total: T, samplesPerSecond: e / elapsed, elapsedSeconds: elapsed });
      let logits: Float32Array[] | undefined;
      if (o.recordLogits) {
        logits = [];
        for (const inst of instances) {
          const all = await engine.read(inst.stepLogits!); // testing only: small runs
          for (let b = 0; b < inst.B; b++) logits.push(all.slice((b * T + s) * 256, (b * T + e) * 256));
        }
      }
      yield { start: s, end: e, audio, classes: cls, logits };
      if (next) pending = next;
    }
  } finally {
    // Let submitted work finish before the buffers go back to the pool.
    await engine.drain();
    for (const inst of instances) destroyDispatches(inst.dispatches);
    for (const r of reads) r.release();
    for (const t of owned) t.release();
  }
}
