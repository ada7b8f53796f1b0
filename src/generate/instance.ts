// A generation instance: the state buffers and the prepared per-step dispatches of a slice of the
// voices, on the layered path (2L + 2 dispatches per step) or the voice-loop path.
import { encodeDispatch as record, type Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { conv1d } from '../ops/conv1d.js';
import { decoderLayers, dilation, type ModelConfig } from '../model/config.js';
import { VOICE_LOOP_STEPS, VOICE_TILE } from './path.js';
import type { GenerateOptions, GeneratorInternals, GeneratorResources } from './types.js';

export interface Instance {
  B: number;
  classes: Tensor;
  stepLogits: Tensor | null;
  dispatches: Dispatch[];
  encodeSteps(pass: GPUComputePassEncoder, n: number): void;
  dispatchesPerStep: number;
  /** Buffers that must start zeroed. */
  stateBuffers: Tensor[];
}

function ringRows(c: ModelConfig): number {
  let rows = 0;
  for (let i = 1; i <= decoderLayers(c); i++) rows += 2 * dilation(i, c.decoder.layersPerStage);
  return rows;
}

/** Most voices one instance can hold within the adapter's storage-binding limit. */
export function maxVoicesPerInstance(c: ModelConfig, frames: number, limitBytes: number, recordLogits = false): number {
  const { residual: R, skip: S } = c.decoder;
  const perVoice = Math.max(
    ringRows(c) * R * 4,
    frames * (decoderLayers(c) * 2 * R + S) * 4,
    recordLogits ? frames * c.hop * 256 * 4 : 0,
  );
  const n = Math.floor(limitBytes / perVoice);
  if (n < 1) throw new Error(`one voice of ${frames} frames needs ${perVoice} bytes in one binding, over this adapter's limit of ${limitBytes}`);
  return n;
}

export async function buildInstance(res: GeneratorResources, voiceBase: number, B: number, frames: number, condInput: Float32Array, o: GenerateOptions & GeneratorInternals, alloc: (shape: number[], dtype?: 'f32' | 'u32') => Tensor, oneOff: Dispatch[], path: 'layered' | 'voice-loop'): Promise<Instance> {
  const { engine, config: c, gen } = res;
  const L = decoderLayers(c);
  const { residual: R, skip: S } = c.decoder;
  const T = frames * c.hop;
  const stride = L * 2 * R + S;
  const E = condInput.length / (B * frames);
  const condIn = alloc([B, frames, E]);
  engine.write(condIn, condInput);
  const cond = alloc([B, frames, stride]);
  const state = alloc([B * 5], 'u32');
  const hist = alloc([ringRows(c) * B * R]);
  const past = alloc([L * B * 2 * R]);
  const ls = alloc([B * (R + S)]);
  const g = alloc([B * R]);
  const classes = alloc([B * T], 'u32');
  let teacher: Tensor | null = null;
  let stepLogits: Tensor | null = null;
  let flags = 0;
  if (o.teacher) {
    teacher = alloc([B * T], 'u32');
    for (let b = 0; b < B; b++) engine.write(teacher, o.teacher[voiceBase + b].subarray(0, T), b * T * 4);
    flags |= 1;
  }
  if (o.recordLogits) {
    stepLogits = alloc([B * T * 256]);
    flags |= 2;
  }
  const off = gen.offsets;
  const params = (layer: number) => ({
    B, R, S, L, lps: c.decoder.layersPerStage, frames, hop: c.hop, steps: T, cond_stride: stride, layer,
    temperature: o.temperature ?? 1, seed: (o.seed ?? 0) >>> 0, flags,
    gw_start_w: off.startW, gw_start_b: off.startB, gw_ss_w: off.ssW, gw_ss_b: off.ssB, gw_rs_b: off.rsB,
    gw_out1_w: off.out1W, gw_logits_w: off.logitsW, gw_logits_b: off.logitsB, voice_base: (o.voiceOffset ?? 0) + voiceBase,
  });
  // Once per note: the conditioning of every layer and of the head, for every frame and voice.
  oneOff.push(await conv1d(engine, condIn, res.condW, gen.condB, cond, { taps: 1 }));
  const stepLogitsBuf = stepLogits?.buffer ?? alloc([1]).buffer; // own placeholder: one buffer may not be both read and written
  const teacherBuf = teacher?.buffer ?? engine.dummy;
  const dispatches: Dispatch[] = [];
  const inst = { B, classes, stepLogits, dispatches, stateBuffers: [state, hist, past, ls, g] };
  if (path === 'voice-loop') {
    const kLoop = await engine.kernel('gen_voice_loop');
    const wo = gen.wallOffsets;
    const loop = (nsteps: number) => kLoop.prepare({
      p: params(0), q: { nsteps, w_past: wo.wPast, w_cur: wo.wCur, w_rs: wo.wRs, gw: wo.gw },
      state: state.buffer, hist: hist.buffer, wall: gen.wall!.buffer, cond: cond.buffer, classes: classes.buffer,
      teacher: teacherBuf, step_logits: stepLogitsBuf,
    }, [B]);
    const many = loop(VOICE_LOOP_STEPS);
    const one = loop(1);
    dispatches.push(many, one);
    return {
      ...inst,
      dispatchesPerStep: 1 / VOICE_LOOP_STEPS,
      encodeSteps(pass, n) {
        for (let j = 0; j < Math.floor(n / VOICE_LOOP_STEPS); j++) record(pass, many);
        for (let j = 0; j < n % VOICE_LOOP_STEPS; j++) record(pass, one);
      },
    };
  }
  const groupsY = Math.ceil(B / VOICE_TILE);
  const [kStart, kGate, kRs, kHead] = await Promise.all(['gen_step_start', 'gen_gate', 'gen_res_skip', 'gen_head_sample'].map((n) => engine.kernel(n)));
  const startThreads = (L * (2 * R)) / 4 + (R + S) / 4;
  dispatches.push(kStart.prepare({ p: params(0), state: state.buffer, hist: hist.buffer, w_past: gen.wPast.buffer, cond: cond.buffer, gw: gen.gw.buffer, past: past.buffer, ls: ls.buffer }, [Math.ceil(startThreads / 64), groupsY]));
  for (let i = 0; i < L; i++) {
    dispatches.push(kGate.prepare({ p: params(i), state: state.buffer, past: past.buffer, w_cur: gen.wCur.buffer, ls: ls.buffer, hist: hist.buffer, g: g.buffer }, [Math.ceil(R / 4 / 64), groupsY]));
    dispatches.push(kRs.prepare({ p: params(i), w_rs: gen.wRs.buffer, gw: gen.gw.buffer, g: g.buffer, ls: ls.buffer }, [Math.ceil((R + S) / 4 / 64), groupsY]));
  }
  dispatches.push(kHead.prepare({ p: params(0), state: state.buffer, ls: ls.buffer, gw: gen.gw.buffer, cond: cond.buffer, classes: classes.buffer, teacher: teacherBuf, step_logits: stepLogitsBuf }, [B]));
  return {
    ...inst,
    dispatchesPerStep: dispatches.length,
    encodeSteps(pass, n) {
      for (let j = 0; j < n; j++) for (const d of dispatches) record(pass, d);
    },
  };
}

