// Host wrappers and references for kernels/gate_sigmoid_tanh.wgsl, the WaveNet gate
// sigmoid(first half) * tanh(second half), and its backward kernels/gate_sigmoid_tanh_backward.wgsl.
import type { Engine } from '../gpu/engine.js';
import type { Dispatch } from '../gpu/registry.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectNumel, grid1d, type Arr } from './common.js';

/** x [..., 2C] -> out [..., C]. */
export async function gate(engine: Engine, x: Tensor, out: Tensor): Promise<Dispatch> {
  const c2 = x.shape[x.shape.length - 1];
  if (c2 % 2 !== 0) throw new Error(`gate: last dimension ${c2} of x is odd`);
  const n = x.numel / c2;
  expectNumel('gate', 'out', out, n * (c2 / 2));
  const k = await engine.kernel('gate_sigmoid_tanh');
  return k.prepare({ params: { n, channels: c2 / 2 }, x: x.binding, out: out.binding }, [grid1d(n * (c2 / 2), 256)]);
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

/** dx (+)= d gate / d x from the gate's input x [..., 2C] and the output gradient dout [..., C]. */
export async function gateBackward(
  engine: Engine,
  x: Tensor,
  dout: Tensor,
  dx: Tensor,
  accumulate: boolean,
): Promise<Dispatch> {
  const c2 = x.shape[x.shape.length - 1];
  const n = x.numel / c2;
  expectNumel('gateBackward', 'dout', dout, n * (c2 / 2));
  expectNumel('gateBackward', 'dx', dx, x.numel);
  const k = await engine.kernel('gate_sigmoid_tanh_backward');
  return k.prepare(
    {
      params: { n, channels: c2 / 2, accumulate: accumulate ? 1 : 0 },
      x: x.binding,
      dout: dout.binding,
      dx: dx.binding,
    },
    [grid1d(n * (c2 / 2), 256)],
  );
}

export function gateBackwardReference(x: Arr, dout: Arr, channels: number): Float64Array {
  const n = x.length / (2 * channels);
  const dx = new Float64Array(x.length);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < channels; c++) {
      const ia = r * 2 * channels + c;
      const ib = ia + channels;
      const s = sigmoid(x[ia]);
      const th = Math.tanh(x[ib]);
      const g = dout[r * channels + c];
      dx[ia] = g * th * s * (1 - s);
      dx[ib] = g * s * (1 - th * th);
    }
  }
  return dx;
}
