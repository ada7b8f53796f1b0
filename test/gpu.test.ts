// The GPU runtime: adapter choice and its errors, the kernel registry's call-site checks, the
// buffer pool, and validation errors surfacing as exceptions instead of silent zeros.
import { describe, it, expect } from 'vitest';
import { testEngine } from './helpers.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../src/gpu/engine.js';
import { gpuSelectEnv, pciDisplayDevices } from '../src/gpu/device.js';

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

describe('one process per GPU: --adapter gpu:N', () => {
  it('numbers the PCI display controllers in bus order and names the chosen one for the device-select layer', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-pci-'));
    const dev = (address: string, cls: string, vendor = '0x10de') => {
      fs.mkdirSync(path.join(root, address));
      fs.writeFileSync(path.join(root, address, 'class'), `${cls}\n`);
      fs.writeFileSync(path.join(root, address, 'vendor'), `${vendor}\n`);
      fs.writeFileSync(path.join(root, address, 'device'), '0x2335\n');
    };
    dev('0000:c1:00.0', '0x030200'); // 3D controllers (H100s), listed out of order
    dev('0000:3b:00.0', '0x030200');
    dev('0000:00:1f.3', '0x040300'); // an audio device: not a GPU
    dev('0000:02:00.0', '0x030000'); // a VGA controller
    dev('0000:01:00.0', '0x030000', '0x1a03'); // the BMC's ASPEED VGA: not a GPU to render on
    dev('0000:00:02.0', '0x030000', '0x8086'); // an Intel iGPU: nvidia-smi does not number it
    const found = pciDisplayDevices(fs, root);
    expect(found.map((d) => d.address)).toEqual(['0000:02:00.0', '0000:3b:00.0', '0000:c1:00.0']);
    expect(found[1]).toMatchObject({ vendor: '0x10de', device: '0x2335' });
    expect(gpuSelectEnv(2, found)).toEqual({
      DRI_PRIME: 'pci-0000_c1_00_0',
      MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: '1',
    });
    expect(() => gpuSelectEnv(3, found)).toThrow(/gpu:3: this machine has 3 display controllers.*gpu:2 0000:c1:00.0/);
    expect(() => gpuSelectEnv(0, [])).toThrow(
      /has 0 display controllers on the PCI bus; software adapters have no index/,
    );
    expect(pciDisplayDevices(fs, path.join(root, 'absent'))).toEqual([]);
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

  it('a workgroup size written as an override constant is the value the pipeline is compiled with', async () => {
    const e = await testEngine();
    expect((await e.kernel('gen_layer_fused', { WG: 128, C4: 8 })).workgroupSize).toEqual([128, 1, 1]);
    expect((await e.kernel('gen_layer_fused')).workgroupSize).toEqual([64, 1, 1]); // its default
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
