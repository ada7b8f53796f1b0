// The GPU runtime: adapter choice and its errors, the kernel registry's call-site checks, the
// buffer pool, and validation errors surfacing as exceptions instead of silent zeros.
import { describe, it, expect } from 'vitest';
import { testEngine } from './helpers.js';
import { createEngine } from '../src/gpu/engine.js';

describe('adapter', () => {
  it('names the adapter, and refuses unknown choices with what to do', async () => {
    const e = await testEngine();
    expect(e.adapter.name).toMatch(/\S/);
    await expect(createEngine({ adapter: 'quantum' })).rejects.toThrow(/Unknown adapter choice "quantum"/);
    await expect(createEngine({ adapter: '/nowhere/icd.json' })).rejects.toThrow(
      /does not exist\. No usable WebGPU adapter\. Install a GPU driver/,
    );
  });
});

describe('kernel registry', () => {
  it('reflects bindings, uniform fields and workgroup size from the WGSL', async () => {
    const e = await testEngine();
    const k = await e.kernel('conv1d');
    expect(k.workgroupSize).toEqual([16, 16, 1]);
    expect([...k.bindings.keys()]).toEqual(['params', 'x', 'W', 'bias', 'fbias', 'resid', 'y']);
    expect(k.bindings.get('y')!.readOnly).toBe(false);
    expect(k.bindings.get('x')!.readOnly).toBe(true);
    expect([...k.bindings.get('params')!.fields!.keys()]).toContain('dilation');
    expect(await e.kernel('conv1d')).toBe(k); // cached
  });

  it('binding mistakes are errors at the call site', async () => {
    const e = await testEngine();
    const k = await e.kernel('axpy');
    const x = e.tensor([16]);
    const p = { n: 16, alpha: 1 };
    expect(() => k.prepare({ params: p, x: x.buffer }, [1])).toThrow(/axpy: binding "y" was not given/);
    expect(() => k.prepare({ params: p, x: x.buffer, y: x.buffer, z: x.buffer }, [1])).toThrow(
      /axpy: no binding named "z"/,
    );
    expect(() => k.prepare({ params: { ...p, m: 2 }, x: x.buffer, y: x.buffer }, [1])).toThrow(
      /uniform "params" has no field "m"/,
    );
    expect(() => k.prepare({ params: { alpha: 1 }, x: x.buffer, y: x.buffer }, [1])).toThrow(/field "n" was not given/);
    expect(() => k.prepare({ params: { n: -1, alpha: 1 }, x: x.buffer, y: x.buffer }, [1])).toThrow(/\(u32\) is -1/);
    expect(() => k.prepare({ params: p, x: { buffer: x.buffer, offset: 4 }, y: x.buffer }, [1])).toThrow(
      /offset 4 is not a multiple of 256/,
    );
    expect(() => k.prepare({ params: p, x: { buffer: x.buffer, size: 4096 }, y: x.buffer }, [1])).toThrow(
      /exceeds buffer size/,
    );
    expect(() => k.prepare({ params: p, x: x.buffer, y: x.buffer }, [0])).toThrow(/workgroup count 0/);
    await expect(e.kernel('no_such_kernel')).rejects.toThrow(/No kernel named "no_such_kernel"/);
    x.release();
  });
});

describe('buffer pool', () => {
  it('recycles buffers by size and counts the live ones', async () => {
    const e = await testEngine();
    const before = e.pool.stats().live;
    const a = e.tensor([1000]);
    const buf = a.buffer;
    expect(e.pool.stats().live).toBe(before + 1);
    a.release();
    expect(e.pool.stats().live).toBe(before);
    const b = e.tensor([1000]);
    expect(b.buffer).toBe(buf);
    b.release();
  });
});

describe('errors surface', () => {
  it('an uncaptured validation error is thrown from the next sync, not swallowed', async () => {
    const e = await createEngine(); // its own device: this one is poisoned on purpose
    const x = e.tensor([4]);
    // Writing past the end of a buffer is a validation error raised asynchronously by WebGPU.
    e.device.queue.writeBuffer(x.buffer, 1024, new Float32Array(4));
    await expect(e.sync()).rejects.toThrow(/WebGPU error/);
    expect(() => e.run([])).toThrow(/WebGPU error/);
    e.destroy();
  });
});
