// Peers of `nsynth bench generate`, measured in the same run: the same Fast WaveNet generation
// written with other tools on the same machine, so the table says what our kernels buy.
//   tfjs-webgpu  tfjs-core + tfjs-backend-webgpu 4.22 on the engine's own Dawn adapter
//   tfjs-wasm    tfjs-core + tfjs-backend-wasm 4.22 (XNNPACK), the fastest CPU peer for large configs
//   cpu-ts       plain TypeScript Float32Array code, the fastest CPU peer for small configs
// Every peer takes the model's own weights and our conditioning input (conditioningInput), and
// draws from our counter-based uniforms, so teacher-forced logits and sampled classes compare
// one to one. The tfjs packages are optional dependencies, imported only when a peer is asked for.
import type { NSynthModel } from '../../nsynth.js';
import { conditioningInput, notePitches } from '../../model/inputs.js';
import { Rng } from '../../util/rng.js';
import type { Peer, PeerRunOptions } from './common.js';

export type { Peer, PeerRunOptions, PeerRunResult } from './common.js';

export const PEER_NAMES = ['tfjs-webgpu', 'tfjs-wasm', 'cpu-ts'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

export interface PeerRow {
  peer: string;
  detail: string;
  config: string;
  batch: number;
  samplesPerSecond: number /* per voice */;
  aggregateSamplesPerSecond: number;
}

export interface BenchPeersOptions {
  batches: number[];
  /** Seconds of audio per voice, as `bench generate --seconds` (rounded to whole frames). */
  seconds: number;
  seed?: number;
  /** Which peers (default: all of PEER_NAMES); one that cannot start is reported and skipped. */
  peers?: string[];
  /** Most steps to time per run; fewer than the full length are said in the row's detail. */
  maxSteps?: number;
  /** Wall-time budget of one timed run: a short warm-up run estimates the step time and the
   * steps are capped to fit (default 60 s). */
  budgetSeconds?: number;
  onLog?: (line: string) => void;
}

/** A peer on the model's weights (the tfjs-webgpu one on the model's engine's adapter). */
export async function createPeer(name: string, model: NSynthModel): Promise<Peer> {
  switch (name) {
    case 'tfjs-webgpu': {
      const { tfjsWebgpuPeer } = await import('./tfjs-webgpu.js');
      return tfjsWebgpuPeer(model.engine, model.weights);
    }
    case 'tfjs-wasm': {
      const { tfjsWasmPeer } = await import('./tfjs-wasm.js');
      return tfjsWasmPeer(model.weights);
    }
    case 'cpu-ts': {
      const { cpuTsPeer } = await import('./cpu-ts.js');
      return cpuTsPeer(model.weights);
    }
    default:
      throw new Error(`unknown peer "${name}" (known: ${PEER_NAMES.join(', ')})`);
  }
}

/** [B, frames, E] conditioning of B voices of random embeddings (as the benchmark's), MIDI 60 where pitched. */
export function benchConditioning(model: NSynthModel, B: number, frames: number): Float32Array {
  const c = model.config;
  const rng = new Rng(B);
  const voices = Array.from({ length: B }, () =>
    Float32Array.from({ length: frames * c.bottleneck }, () => rng.uniform(-1, 1)),
  );
  return conditioningInput(c, voices, frames, notePitches(c, c.pitchConditioning ? 60 : undefined, B));
}

/**
 * Every step's logits of a peer fed the given classes (teacher forcing), per voice [steps, 256]:
 * what our generator's `recordLogits` + `teacher` give, for comparing the two.
 */
export async function peerTeacherForcedLogits(
  peer: string | Peer,
  model: NSynthModel,
  o: { condInput: Float32Array; B: number; frames: number; teacher: Uint32Array[]; steps: number },
): Promise<Float32Array[]> {
  const p = typeof peer === 'string' ? await createPeer(peer, model) : peer;
  try {
    const r = await p.run({ ...o, recordLogits: true });
    return r.logits!;
  } finally {
    if (typeof peer === 'string') p.dispose();
  }
}

/** Each peer at each batch, timed like our generator (warm-up first, then one run of the note). */
export async function benchPeers(model: NSynthModel, o: BenchPeersOptions): Promise<PeerRow[]> {
  const c = model.config;
  const log = o.onLog ?? (() => {});
  const frames = Math.max(1, Math.round((o.seconds * c.sampleRate) / c.hop));
  const T = frames * c.hop;
  const budget = o.budgetSeconds ?? 60;
  const rows: PeerRow[] = [];
  for (const name of o.peers ?? PEER_NAMES) {
    let peer: Peer;
    try {
      peer = await createPeer(name, model);
    } catch (e) {
      log(`peer ${name} skipped: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    try {
      for (const B of o.batches) {
        if (!Number.isInteger(B) || B < 1) throw new Error(`bad batch size ${B}`);
        const condInput = benchConditioning(model, B, frames);
        const run = (steps: number) => peer.run({ B, frames, condInput, steps, seed: o.seed ?? 1 } as PeerRunOptions);
        // Warm-up: compiles the peer's programs for this batch; a second short run's time per step
        // sizes the timed run to the budget.
        await run(Math.min(T, 2));
        const probe = Math.min(T, 4);
        const perStep = (await run(probe)).seconds / probe;
        let steps = Math.min(T, o.maxSteps ?? T, Math.max(8, Math.floor(budget / perStep)));
        steps = Math.max(1, Math.min(steps, T));
        const r = await run(steps);
        const perVoice = steps / r.seconds;
        const parts = [peer.detail];
        if (r.note) parts.push(r.note);
        if (steps < T) parts.push(`timed ${steps} of ${T} steps`);
        const row: PeerRow = {
          peer: peer.name,
          detail: parts.join('; '),
          config: c.name,
          batch: B,
          samplesPerSecond: perVoice,
          aggregateSamplesPerSecond: perVoice * B,
        };
        log(
          `${row.peer} ${row.config} batch ${B}: ${perVoice.toFixed(1)} samples/s per voice, ` +
            `${row.aggregateSamplesPerSecond.toFixed(1)} aggregate (${row.detail})`,
        );
        rows.push(row);
      }
    } finally {
      peer.dispose();
    }
  }
  return rows;
}
