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
  /**
   * Bytes of GPU memory the engine may hold at once (see BufferPool). Default: NSYNTH_GPU_MEMORY
   * in Node (bytes, or a number with K/M/G), else half the host memory (a software adapter's GPU
   * memory is host memory; WebGPU cannot report a GPU's), or in a browser half of
   * navigator.deviceMemory (2 GiB where it is not reported).
   */
  memoryBudget?: number;
}

/** "8G", "512MiB", "1e9" -> bytes; throws on anything else. */
export function parseByteSize(text: string, what = 'NSYNTH_GPU_MEMORY'): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const n = m ? Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase()) : Number.NaN;
  if (!(n >= 2 ** 20) || !Number.isFinite(n))
    throw new Error(`${what}="${text}": give a size of at least 1M, as bytes or with K/M/G/T (e.g. 8G)`);
  return Math.floor(n);
}

async function defaultMemoryBudget(): Promise<number> {
  const proc = typeof process !== 'undefined' ? process : undefined;
  if (proc?.versions?.node && typeof window === 'undefined') {
    const env = proc.env.NSYNTH_GPU_MEMORY;
    if (env) return parseByteSize(env);
    const os = await import('node:os');
    return Math.floor(os.totalmem() / 2);
  }
  const gib = (globalThis as unknown as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory;
  return gib ? (gib / 2) * 2 ** 30 : 2 ** 31;
}

export type TypedArray = Float32Array | Uint32Array | Int32Array;

/** Bytes [offset, offset + bytes) of a tensor, to be read back. */
export interface ReadRange {
  tensor: Tensor;
  /** Byte offset within the tensor (default 0). */
  offset?: number;
  /** Bytes to read (default: the rest of the tensor). */
  bytes?: number;
}

/**
 * A read-back in flight: the copies were submitted with the work that produces them, into one
 * staging buffer. `data()` waits for them; until then the GPU may run further submits (the
 * generator keeps one chunk ahead this way). `release()` frees the staging buffer if never read.
 */
export class PendingRead {
  private done = false;
  constructor(
    private readonly engine: Engine,
    private readonly staging: GPUBuffer,
    readonly bytes: number,
  ) {}

  /** The bytes of every range, back to back in the order given. */
  async data(): Promise<ArrayBuffer> {
    if (this.done) throw new Error('PendingRead: already read or released');
    try {
      await this.staging.mapAsync(GPUMapMode.READ);
      this.engine.checkHealthy();
      const copy = this.staging.getMappedRange(0, this.bytes).slice(0);
      this.staging.unmap();
      return copy;
    } catch (e) {
      throw (await this.engine.lossAfterFailure()) ?? e;
    } finally {
      this.release();
    }
  }

  release(): void {
    if (this.done) return;
    this.done = true;
    this.staging.destroy();
  }
}

export class Engine {
  readonly registry: KernelRegistry;
  readonly pool: BufferPool;
  /** A small buffer bound where a kernel's optional input is unused. */
  readonly dummy: GPUBuffer;
  /** A second placeholder, for an unused writable binding beside another (writable bindings may not alias). */
  readonly dummyOut: GPUBuffer;
  private failure: Error | null = null;
  private destroyedByUs = false;
  private readonly lost: Promise<GPUDeviceLostInfo>;

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
    this.lost = device.lost.then((info) => {
      // Our own destroy() is not a failure; anything else (a GPU reset, a driver crash, a page that
      // destroys the device under us) is, and every pending call reports it.
      if (!this.destroyedByUs)
        this.failure ??= new Error(
          `WebGPU device lost (${info.reason}${info.message ? `: ${info.message}` : ''}); create a new engine to continue`,
        );
      return info;
    });
  }

  /** Bytes of GPU memory this engine may hold at once (its pool's budget). */
  get memoryBudget(): number {
    return this.pool.budget;
  }

  /** Throws if this engine was destroyed, or the first recorded device loss or validation error, if any. */
  checkHealthy(): void {
    if (this.destroyedByUs)
      throw new Error('this engine was destroyed (engine.destroy()): create a new one with createEngine()');
    if (this.failure) throw this.failure;
  }

  /**
   * After a GPU call failed: the device-loss error if the device was lost (its `lost` promise may
   * settle just after the failed call, so it is given `waitMs`), else null.
   */
  async lossAfterFailure(waitMs = 200): Promise<Error | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.lost, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    if (this.destroyedByUs)
      return new Error(
        'this engine was destroyed (engine.destroy()) while the call ran: create a new one with createEngine()',
      );
    return this.failure;
  }

  /** A kernel of kernels/ by name; `constants` sets its WGSL `override` constants. */
  kernel(name: string, constants?: Record<string, number>): Promise<Kernel> {
    return this.registry.get(name, constants);
  }

  tensor(shape: number[], dtype: DType = 'f32', label?: string): Tensor {
    this.checkHealthy();
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
      if (byteOffset + data.byteLength > t.bytes)
        throw new Error(`write: ${data.byteLength} bytes at ${byteOffset} do not fit a tensor of ${t.bytes} bytes`);
      byteOffset += t.offset;
    }
    if (byteOffset + data.byteLength > buffer.size)
      throw new Error(`write: ${data.byteLength} bytes do not fit a ${buffer.size}-byte buffer`);
    this.device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Encodes the dispatches into one compute pass and submits them. Returns without waiting. */
  run(list: Dispatch[]): void {
    this.submit((pass) => encodeDispatches(pass, list));
  }

  /**
   * One submit: the compute pass that `encode` records (if any), then copies of `read` into one
   * staging buffer. Returns the pending read-back (null when nothing is read). Does not wait.
   */
  submit(encode: ((pass: GPUComputePassEncoder) => void) | null, read: ReadRange[] = []): PendingRead | null {
    this.checkHealthy();
    const enc = this.device.createCommandEncoder();
    if (encode) {
      const pass = enc.beginComputePass();
      encode(pass);
      pass.end();
    }
    let pending: PendingRead | null = null;
    if (read.length > 0) {
      const spans = read.map((r) => {
        const offset = r.offset ?? 0;
        const bytes = r.bytes ?? r.tensor.bytes - offset;
        if (offset < 0 || bytes < 0 || offset + bytes > r.tensor.bytes) {
          throw new Error(`read: bytes ${offset}..${offset + bytes} lie outside a tensor of ${r.tensor.bytes} bytes`);
        }
        if (offset % 4 || bytes % 4) throw new Error(`read: bytes ${offset}..${offset + bytes} are not 4-byte aligned`);
        return { buffer: r.tensor.buffer, from: r.tensor.offset + offset, bytes };
      });
      const total = spans.reduce((n, x) => n + x.bytes, 0);
      const staging = this.device.createBuffer({
        size: Math.max(4, total),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      let at = 0;
      for (const x of spans) {
        if (x.bytes > 0) enc.copyBufferToBuffer(x.buffer, x.from, staging, at, x.bytes);
        at += x.bytes;
      }
      pending = new PendingRead(this, staging, total);
    }
    this.device.queue.submit([enc.finish()]);
    return pending;
  }

  /** Zeroes tensors (or views) on the GPU, in one submit. */
  clear(...tensors: Tensor[]): void {
    const enc = this.device.createCommandEncoder();
    for (const t of tensors) enc.clearBuffer(t.buffer, t.offset, Math.ceil(t.bytes / 4) * 4);
    this.device.queue.submit([enc.finish()]);
  }

  /** Waits for all submitted work and reports any error it raised. */
  async sync(): Promise<void> {
    await this.drain();
    this.checkHealthy();
  }

  /** Waits for all submitted work, reporting nothing (before buffers go back to the pool after a failure). */
  async drain(): Promise<void> {
    // A destroyed or lost device has nothing left to finish, and its wait rejects (an empty
    // AbortError): called from cleanup (finally) blocks, that would replace the error being thrown.
    if (this.destroyedByUs) return;
    try {
      await this.device.queue.onSubmittedWorkDone();
    } catch (e) {
      if (this.destroyedByUs || this.failure || (await this.lossAfterFailure())) return;
      throw e;
    }
  }

  async read(t: Tensor): Promise<Float32Array>;
  async read(t: Tensor, as: 'u32'): Promise<Uint32Array>;
  async read(t: Tensor, as?: 'u32'): Promise<Float32Array | Uint32Array> {
    const copy = await this.submit(null, [{ tensor: t }])!.data();
    const wantU32 = as === 'u32' || (as === undefined && t.dtype === 'u32');
    return wantU32 ? new Uint32Array(copy) : new Float32Array(copy);
  }

  destroy(): void {
    this.destroyedByUs = true;
    this.pool.trim();
    this.dummy.destroy();
    this.dummyOut.destroy();
    this.device.destroy();
    this.releaseDevice();
  }
}

/** Kernels from the package's kernels/ folder (Node). */
async function nodeKernelSource(): Promise<KernelSource> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { packageRoot } = await import('../util/package-root.js');
  const root = path.join(packageRoot(), 'kernels');
  return (name: string) => {
    const file = path.join(root, `${name}.wgsl`);
    if (!fs.existsSync(file)) throw new Error(`No kernel named "${name}" (${file} does not exist)`);
    return fs.readFileSync(file, 'utf8');
  };
}

export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  // Settled before a device exists, so a bad value leaves nothing behind.
  const budget = options.memoryBudget ?? (await defaultMemoryBudget());
  if (!(budget > 0)) throw new Error(`memoryBudget must be a positive number of bytes, got ${budget}`);
  const engine = await newEngine(options);
  engine.pool.budget = budget;
  return engine;
}

async function newEngine(options: EngineOptions): Promise<Engine> {
  const source = options.kernelSource ?? (await nodeKernelSource());
  if (options.device) {
    return new Engine(
      options.device,
      {
        vendor: '',
        architecture: '',
        device: '',
        description: '',
        type: 'gpu',
        backend: 'external',
        name: 'external device',
        subgroupMinSize: 0,
      },
      new Set(options.device.features),
      source,
    );
  }
  const got = await acquireDevice(options);
  return new Engine(got.device, got.adapterInfo, got.features, source, got.release);
}
