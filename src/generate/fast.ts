// The fast generator (Fast WaveNet on the GPU): per-layer rings of past layer inputs, the
// conditioning of every layer computed once per frame for all voices, past taps of all layers in
// one dispatch, then per layer the current tap + gate and the residual/skip matvec, and the head
// with softmax sampling. Many steps per submit, no readback per step: the sampled class feeds the
// next step on the GPU and audio comes back in chunks (the engine's pipelined read-back). This file
// runs the chunk loop; instance.ts builds the per-step work, route.ts chooses the path and
// generator.ts batches voices over it.
import { lanesOf } from '../gpu/lanes.js';
import type { Engine, PendingRead, ReadRange } from '../gpu/engine.js';
import { destroyDispatches } from '../gpu/registry.js';
import { PatientWait, waitsSpinAdapterCores } from '../gpu/patient-wait.js';
import { formatBytes, type Tensor } from '../gpu/tensor.js';
import type { ModelConfig } from '../model/config.js';
import { MU_LAW_DECODE_TABLE } from '../ops/mu-law.js';
import { buildInstance, type Instance, instanceLayout, voiceBytes } from './instance.js';
import { choosePath, DEFAULT_FUSED_SHAPE, fusedStorage } from './route.js';
import { checkFusedShape } from '../ops/gen-step.js';
import { layeredPlan, type Plan, storagesToTime, tune, tuningEnabled, tuningInput } from './tuning.js';
import type { AudioChunk, GenerateOptions, GeneratorInternals, GeneratorResources } from './types.js';

function abortError(): Error {
  const e = new Error('generation was cancelled');
  e.name = 'AbortError';
  return e;
}

/**
 * Dispatches per submit, and submits queued ahead of the newest finished one. h512_bo16 on lavapipe
 * (62 dispatches per step, ~10 samples/s) then submits 16 steps, about 1.6 s of work, so a cancel
 * waits for a few seconds at most; faster configs and GPUs go through many units per second.
 */
const DISPATCHES_PER_SUBMIT = 1024;
const MAX_IN_FLIGHT = 3;

/**
 * Most voices of `frames` frames that fit in the engine's GPU memory budget at once, beside what
 * it already holds (Generator.generate runs larger batches in groups of this size).
 */
export function voicesInMemory(
  engine: Engine,
  c: ModelConfig,
  frames: number,
  o: { teacher?: boolean; recordLogits?: boolean } = {},
): number {
  return Math.floor(engine.pool.available() / voiceBytes(c, frames, o));
}

/**
 * The plan for B voices: the path asked for, or under `auto` the measured rules (voice-lanes on CPU
 * adapters with subgroups; elsewhere the choice timed once per adapter, tuning.ts), or the rules
 * alone where tuning is off (NSYNTH_TUNING=off).
 */
export async function resolvePlan(
  resources: GeneratorResources,
  B: number,
  o: GenerateOptions & GeneratorInternals,
): Promise<Plan> {
  const { engine, config: c } = resources;
  const requested = o.path ?? 'auto';
  const rule = choosePath(c, requested, B, lanesOf(engine));
  const storage = fusedStorage(resources, o);
  const fused = (shape = o.fusedShape ?? DEFAULT_FUSED_SHAPE, chosen = storage): Plan => {
    checkFusedShape(shape, c.decoder.residual, c.decoder.skip);
    return { path: 'fused', fused: { shape, storage: chosen } };
  };
  // the layered path's matrices as the fused path's: as asked, else f16 where the adapter has
  // shader-f16 (rounded weights; under `auto` the other storage is timed against it)
  const asked = o.weightStorage === 'f16' || o.weightStorage === 'f32';
  if (rule === 'fused' || (requested === 'auto' && o.fusedShape)) return fused();
  if (requested !== 'auto' || rule === 'voice-lanes' || !tuningEnabled())
    return rule === 'layered' ? layeredPlan(storage) : { path: rule };
  const entry = await tune(
    resources,
    B,
    rule,
    storagesToTime(engine, o.weightStorage, storage),
    async (plan, steps) => {
      const { frames, cond } = tuningInput(c, B); // only when a choice is timed, not when it is stored
      const it = generateChunks(resources, B, frames, cond, {
        path: plan.path,
        fusedShape: plan.fused?.shape,
        weightStorage: plan.path === 'layered' ? (plan.layered?.storage ?? 'f32') : (plan.fused?.storage ?? storage),
        stopAfter: steps,
        firstChunkSize: steps,
        chunkSize: steps,
      });
      for await (const _ of it);
    },
    o.onTuning,
    asked ? [storage] : [storage, storage === 'f16' ? 'f32' : 'f16'],
  );
  // (an explicit request may share its cache entry with `auto`, and holds whichever layered storage
  // won the timing)
  if (entry.path === 'layered') return layeredPlan(asked ? storage : (entry.layered?.storage ?? 'f32'));
  if (entry.path !== 'fused') return { path: entry.path };
  try {
    return fused(entry.fused?.shape, entry.fused?.storage);
  } catch {
    return { path: rule }; // a stored shape that no longer fits: the rules
  }
}

/** Refuses, before allocating anything, a run whose voices would pass the memory budget. */
function checkGenerationMemory(
  engine: Engine,
  c: ModelConfig,
  B: number,
  frames: number,
  o: { teacher?: boolean; recordLogits?: boolean },
): void {
  const fit = voicesInMemory(engine, c, frames, o);
  if (B <= fit) return;
  const need = B * voiceBytes(c, frames, o);
  const seconds = (frames * c.hop) / c.sampleRate;
  throw new Error(
    `${B} voice${B === 1 ? '' : 's'} of ${seconds.toFixed(2)} s of ${c.name} need ${formatBytes(need)} of GPU memory; ` +
      `${formatBytes(Math.max(0, engine.pool.available()))} is free within the budget of ${formatBytes(engine.memoryBudget)}: ` +
      (fit >= 1
        ? `generate at most ${fit} voices at once (Generator.generate and the CLI run larger batches in groups)`
        : 'generate a shorter note') +
      ', or raise the budget with NSYNTH_GPU_MEMORY',
  );
}

/**
 * One generation run: B voices of `frames` frames, `condInput` [B, frames, E] (embedding and
 * pitch). Voices are split into instances that fit the adapter's binding limit (within an instance
 * the layers' rings and conditioning split into groups where they must: instance.ts layerGroups)
 * and advance in lock-step in the same submits. The generator owns every buffer it allocates and frees them when
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
    checkGenerationMemory(engine, c, B, frames, { teacher: !!o.teacher, recordLogits: !!o.recordLogits });
    const E = condInput.length / (B * frames);
    const chosen = await resolvePlan(resources, B, o);
    const path = chosen.path;
    const { bindingLimit, perInstance: per } = instanceLayout(engine, c, B, frames, path, o);
    for (let v0 = 0; v0 < B; v0 += per) {
      const n = Math.min(per, B - v0);
      const spec = {
        voiceBase: v0,
        B: n,
        frames,
        condInput: condInput.subarray(v0 * frames * E, (v0 + n) * frames * E),
        path,
        fused: chosen.fused,
        layered: chosen.layered,
        bindingLimit,
      };
      instances.push(await buildInstance(engine, c, resources.gen, spec, o, alloc));
    }
    // Fresh state and the voices' RNG keys, then the conditioning.
    const start = () => {
      for (const i of instances) i.reset();
      engine.run(instances.flatMap((i) => i.setup));
    };
    start();
    if (o.profileStep) {
      await o.profileStep(instances.flatMap((i) => i.stepDispatches));
      start(); // the profiled steps advanced the voices: from the first sample again
    }
    const perStep = instances.reduce((n, i) => n + i.dispatchesPerStep, 0);
    const chunk = Math.max(1, o.chunkSize ?? 4096);
    const first = Math.max(1, Math.min(o.firstChunkSize ?? 512, chunk));
    const perSubmit = Math.max(1, o.stepsPerSubmit ?? Math.floor(DISPATCHES_PER_SUBMIT / perStep));
    const t0 = performance.now();
    const bounds: [number, number][] = [];
    const end = Math.min(T, o.stopAfter ?? T);
    for (let s = 0; s < end; ) {
      const e = Math.min(end, s + (s === 0 ? first : chunk));
      bounds.push([s, e]);
      s = e;
    }
    // The steps go to the GPU in units of `perSubmit` steps, at most MAX_IN_FLIGHT units ahead of
    // the last one finished: enough to keep the GPU busy, few enough that a cancel (or a lost
    // device) stops within a unit or two instead of after every submitted chunk. Progress is
    // reported per unit; a chunk is read back and handed out when its last unit is done.
    // Each unit's submit ends with a read-back: the chunk's classes after its last unit, else 4
    // bytes as a fence. Waiting on that read's mapAsync (asked for only when waited on, through a
    // PatientWait) tells when this unit is done while the next ones run: a completion promise per
    // submit, pending the whole time, kept Dawn's binding polling and a CPU core spinning.
    interface Unit {
      chunk: number;
      end: number;
      last: boolean;
      read: PendingRead;
    }
    const fence: ReadRange[] = [{ tensor: instances[0].classes, offset: 0, bytes: 4 }];
    const patience = new PatientWait(waitsSpinAdapterCores(engine));
    const plan: { chunk: number; t: number; steps: number; last: boolean }[] = [];
    bounds.forEach(([s, e], k) => {
      for (let t = s; t < e; t += perSubmit) {
        const steps = Math.min(perSubmit, e - t);
        plan.push({ chunk: k, t, steps, last: t + steps >= e });
      }
    });
    const classesOf = (k: number): ReadRange[] => {
      const [s, e] = bounds[k];
      return instances.flatMap((inst) =>
        Array.from({ length: inst.B }, (_, b) => ({
          tensor: inst.classes,
          offset: (b * T + s) * 4,
          bytes: (e - s) * 4,
        })),
      );
    };
    const inFlight: Unit[] = [];
    let next = 0;
    const fill = () => {
      while (inFlight.length < MAX_IN_FLIGHT && next < plan.length) {
        const u = plan[next++];
        const read = engine.submit(
          (pass) => {
            for (const inst of instances) inst.encodeSteps(pass, u.steps);
          },
          u.last ? classesOf(u.chunk) : fence,
        )!;
        reads.push(read);
        inFlight.push({ chunk: u.chunk, end: u.t + u.steps, last: u.last, read });
      }
    };
    fill();
    while (inFlight.length) {
      const unit = inFlight.shift()!;
      const data = await patience.wait(() => unit.read.data());
      reads.splice(reads.indexOf(unit.read), 1);
      if (o.signal?.aborted) throw abortError();
      fill();
      const elapsed = (performance.now() - t0) / 1000;
      o.onProgress?.({ done: unit.end, total: T, samplesPerSecond: unit.end / elapsed, elapsedSeconds: elapsed });
      if (!unit.last) continue;
      const [s, e] = bounds[unit.chunk];
      const all = new Uint32Array(data);
      const n = e - s;
      const cls = Array.from({ length: B }, (_, b) => all.slice(b * n, (b + 1) * n));
      const audio = cls.map((a) => Float32Array.from(a, (v) => MU_LAW_DECODE_TABLE[v]));
      let logits: Float32Array[] | undefined;
      if (o.recordLogits) {
        logits = [];
        for (const inst of instances) {
          const all = await engine.read(inst.stepLogits!); // testing only: small runs
          for (let b = 0; b < inst.B; b++) logits.push(all.slice((b * T + s) * 256, (b * T + e) * 256));
        }
      }
      yield { start: s, end: e, audio, classes: cls, logits };
    }
  } finally {
    // Let submitted work finish before the buffers go back to the pool.
    await engine.drain();
    for (const inst of instances) destroyDispatches(inst.dispatches);
    for (const r of reads) r.release();
    for (const t of owned) t.release();
  }
}
