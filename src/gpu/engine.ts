// The engine: one GPUDevice, its kernel registry and buffer pool, and the few verbs every op uses
// (allocate, upload, run dispatches, read back). Device loss and uncaptured validation errors are
// recorded and thrown from the next run/read instead of turning into silent zeros.
import { acquireDevice, type AdapterDescription, type DeviceOptions } from './device.js';
import { KernelRegistry, encodeDispatches, type Dispatch, type KernelSource, type Kernel } from './registry.js';
import { BufferPool, Tensor, numel, type DType } from './tensor.js';

export interface EngineOptions extends DeviceOptions {
  /** Where kernel WGSL comes from. Node default: the package's `kernels/` folder. */
  kernelSource?: KernelSource;
  /** Use an existing device instead of acquiring one. */
  device?: GPUDevice;
}

export type TypedArray = Float32Array | Uint32Array | Int32Array;

export class Engine {
  readonly registry: KernelRegistry;
  readonly pool: BufferPool;
  /** A small buffer bound where a kernel's optional input is unused. */
  readonly dummy: GPUBuffer;
  /** A second placeholder, for an unused writable binding beside another (writable bindings may not alias). */
  readonly dummyOut: GPUBuffer;
  private failure: Error | null = null;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    readonly features: Set<string>,
    source: KernelSource,
    private readonly releaseDevice: () => void = () => {},
  ) {
    this.registry = new KernelRegistry(device, source);
    this.pool = new BufferPool(device);
    this.dummy = device.createBuffer({ label: 'dummy', size: 256, usage: GPUBufferUsage.STORAGE });
    this.dummyOut = device.createBuffer({ label: 'dummy-out', size: 256, usage: GPUBufferUsage.STORAGE });
    device.addEventListener('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.failure ??= new Error(`WebGPU error: ${err.message}`);
    });
    device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.failure ??= new Error(`WebGPU device lost (${info.reason}): ${info.message}`);
    });
  }

  /** Throws the first recorded device loss or validation error, if any. */
  checkHealthy(): void {
    if (this.failure) throw this.failure;
  }

  kernel(name: string): Promise<Kernel> {
    return this.registry.get(name);
  }

  tensor(shape: number[], dtype: DType = 'f32', label?: string): Tensor {
    for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new Error(`Bad tensor shape [${shape}]`);
    return new Tensor(this.pool.take(numel(shape) * 4, label), [...shape], dtype, this.pool);
  }

  upload(data: TypedArray, shape: number[] = [data.length], label?: string): Tensor {
    if (numel(shape) !== data.length) throw new Error(`upload: ${data.length} values do not fill shape [${shape}]`);
    const dtype: DType = data instanceof Float32Array ? 'f32' : data instanceof Uint32Array ? 'u32' : 'i32';
    const t = this.tensor(shape, dtype, label);
    this.write(t, data);
    return t;
  }

  write(t: Tensor | GPUBuffer, data: TypedArray, byteOffset = 0): void {
    const buffer = t instanceof Tensor ? t.buffer : t;
    if (t instanceof Tensor) {
      if (byteOffset + data.byteLength > t.bytes) throw new Error(`write: ${data.byteLength} bytes at ${byteOffset} do not fit a tensor of ${t.bytes} bytes`);
      byteOffset += t.offset;
    }
    if (byteOffset + data.byteLength > buffer.size) throw new Error(`write: ${data.byteLength} bytes do not fit a ${buffer.size}-byte buffer`);
    this.device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Encodes the dispatches into one compute pass and submits them. Returns without waiting. */
  run(list: Dispatch[]): void {
    this.checkHealthy();
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    encodeDispatches(pass, list);
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  /** Zeroes a tensor (or view) on the GPU. */
  clear(t: Tensor): void {
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(t.buffer, t.offset, Math.ceil(t.bytes / 4) * 4);
    this.device.queue.submit([enc.finish()]);
  }

  /** Waits for all submitted work and reports any error it raised. */
  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.checkHealthy();
  }

  async read(t: Tensor): Promise<Float32Array>;
  async read(t: Tensor, as: 'u32'): Promise<Uint32Array>;
  async read(t: Tensor, as?: 'u32'): Promise<Float32Array | Uint32Array> {
    const bytes = t.bytes;
    const staging = this.device.createBuffer({ size: Math.max(4, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(t.buffer, t.offset, staging, 0, bytes);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      this.checkHealthy();
      const copy = staging.getMappedRange(0, bytes).slice(0);
      staging.unmap();
      const wantU32 = as === 'u32' || (as === undefined && t.dtype === 'u32');
      return wantU32 ? new Uint32Array(copy) : new Float32Array(copy);
    } catch (e) {
      this.checkHealthy();
      throw e;
    } finally {
      staging.destroy();
    }
  }

  destroy(): void {
    this.pool.trim();
    this.dummy.destroy();
    this.dummyOut.destroy();
    this.device.destroy();
    this.releaseDevice();
  }
}

/** Finds the package root (the folder with package.json and kernels/) from this module's URL. */
async function nodeKernelSource(): Promise<KernelSource> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const url = await import('node:url');
  let dir = path.dirname(url.fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'kernels')) || !fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('Cannot find the kernels/ folder above ' + url.fileURLToPath(import.meta.url));
    dir = up;
  }
  const root = path.join(dir, 'kernels');
  return (name: string) => {
    const file = path.join(root, `${name}.wgsl`);
    if (!fs.existsSync(file)) throw new Error(`No kernel named "${name}" (${file} does not exist)`);
    return fs.readFileSync(file, 'utf8');
  };
}

export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const source = options.kernelSource ?? (await nodeKernelSource());
  if (options.device) {
    return new Engine(options.device, { vendor: '', architecture: '', device: '', description: '', type: 'gpu', backend: 'external', name: 'external device' }, new Set(options.device.features), source);
  }
  const got = await acquireDevice(options);
  return new Engine(got.device, got.adapterInfo, got.features, source, got.release);
}
