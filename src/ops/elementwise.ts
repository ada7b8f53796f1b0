// Host wrappers and references for the small elementwise kernels: ReLU, residual add and the
// WaveNet gate sigmoid(first half) * tanh(second half).
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';

export async function relu(engine: Engine, x: Tensor, out: Tensor): Promise<Dispatch> {
  expectNumel('relu', 'out', out, x.numel);
  const k = await engine.kernel('relu');
  return k.prepare({ params: { n: x.numel }, x: x.buffer, out: out.buffer }, [grid1d(x.numel, 256)]);
}

export function reluReference(x: Arr): Float64Array {
  return Float64Array.from(x, (v) => (v > 0 ? v : 0));
}

export async function add(engine: Engine, a: Tensor, b: Tensor, out: Tensor): Promise<Dispatch> {
  expectNumel('add', 'b', b, a.numel);
  expectNumel('add', 'out', out, a.numel);
  if (out.buffer === a.buffer || out.buffer === b.buffer) throw new Error('add: out must not alias an input (use conv1d accumulate for in-place sums)');
  const k = await engine.kernel('add');
  return k.prepare({ params: { n: a.numel }, a: a.buffer, b: b.buffer, out: out.buffer }, [grid1d(a.numel, 256)]);
}

export function addReference(a: Arr, b: Arr): Float64Array {
  return Float64Array.from(a, (v, i) => v + b[i]);
}

/** x [..., 2C] -> out [..., C]. */
export async function gate(engine: Engine, x: Tensor, out: Tensor): Promise<Dispatch> {
  const c2 = x.shape[x.shape.length - 1];
  if (c2 % 2 !== 0) throw new Error(`gate: last dimension ${c2} of x is odd`);
  const n = x.numel / c2;
  expectNumel('gate', 'out', out, n * (c2 / 2));
  const k = await engine.kernel('gate_sigmoid_tanh');
  return k.prepare({ params: { n, channels: c2 / 2 }, x: x.buffer, out: out.buffer }, [grid1d(n * (c2 / 2), 256)]);
}

export function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

export function gateReference(x: Arr, channels: number): Float64Array {
  const n = x.length / (2 * channels);
  const out = new Float64Array(n * channels);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < channels; c++) {
      out[r * channels + c] = sigmoid(x[r * 2 * channels + c]) * Math.tanh(x[r * 2 * channels + channels + c]);
    }
  }
  return out;
}
