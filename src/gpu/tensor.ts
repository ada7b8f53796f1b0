// GPU tensors: a storage buffer with a shape. Buffers come from a pool keyed by byte size, so a
// forward pass that runs twice with the same shapes allocates nothing the second time.

export type DType = 'f32' | 'u32' | 'i32';

export const STORAGE_USAGE = GPUBufferUsageFlags();
function GPUBufferUsageFlags(): number {
  // GPUBufferUsage is a global only once a WebGPU implementation is loaded; the value is fixed by the spec.
  return 0x0080 /* STORAGE */ | 0x0008 /* COPY_DST */ | 0x0004 /* COPY_SRC */;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export class Tensor {
  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: number[],
    readonly dtype: DType,
    private readonly pool?: BufferPool,
    /** Byte offset of a view into a larger buffer (a multiple of 256, the binding alignment). */
    readonly offset = 0,
    private readonly isView = false,
  ) {}
  get numel(): number {
    return numel(this.shape);
  }
  get bytes(): number {
    return this.numel * 4;
  }
  /** What kernels bind: the whole buffer, or the view's byte range. */
  get binding(): GPUBuffer | { buffer: GPUBuffer; offset: number; size: number } {
    if (!this.isView) return this.buffer;
    return { buffer: this.buffer, offset: this.offset, size: Math.max(4, this.bytes) };
  }
  /** A tensor over `shape` elements starting `elementOffset` elements in (offset must keep 256-byte alignment). */
  view(elementOffset: number, shape: number[]): Tensor {
    const offset = this.offset + elementOffset * 4;
    if (offset % 256 !== 0) throw new Error(`Tensor view at element ${elementOffset} is not 256-byte aligned`);
    if (offset + numel(shape) * 4 > this.offset + this.buffer.size)
      throw new Error(`Tensor view [${shape}] at ${elementOffset} runs past its buffer`);
    return new Tensor(this.buffer, [...shape], this.dtype, undefined, offset, true);
  }
  /** The same elements under another shape; the result owns nothing (release the original). */
  reshape(shape: number[]): Tensor {
    if (numel(shape) !== this.numel) throw new Error(`Cannot reshape [${this.shape}] to [${shape}]`);
    return new Tensor(this.buffer, [...shape], this.dtype, undefined, this.offset, true);
  }
  /** Returns the buffer to its pool (or destroys it). The tensor must not be used afterwards. Views own nothing. */
  release(): void {
    if (this.isView) return;
    if (this.pool) this.pool.give(this.buffer);
    else this.buffer.destroy();
  }
}

/** Thrown when an allocation would take the engine past its GPU memory budget. */
export class MemoryBudgetError extends Error {
  constructor(
    readonly requested: number,
    readonly inUse: number,
    readonly budget: number,
  ) {
    super(
      `GPU memory budget exceeded: ${formatBytes(inUse)} in use + ${formatBytes(requested)} requested > ` +
        `the budget of ${formatBytes(budget)} (set it with NSYNTH_GPU_MEMORY or the engine's memoryBudget)`,
    );
    this.name = 'MemoryBudgetError';
  }
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** Bytes of GPU memory one engine may hold, shared by every pool that allocates for it. */
export class MemoryAccount {
  /** Bytes all pools together may hold (live and idle); Infinity for no limit. */
  budget = Number.POSITIVE_INFINITY;
  /** Bytes held now. */
  used = 0;
}

/**
 * Buffers rounded up to 256 bytes and recycled by size, within a memory budget: WebGPU cannot say
 * how much memory a device has (and a software adapter takes it from the host, where running out
 * kills the process), so the engine keeps its own account. Idle buffers are dropped before a new
 * one would pass the budget; past it, `take` throws a MemoryBudgetError before allocating.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly created = new Set<GPUBuffer>();
  private live = 0;
  private liveBytes = 0;
  private idleBytes = 0;
  constructor(
    private readonly device: GPUDevice,
    /** Shared with the engine's other pools (the training tape has its own pool on the same account). */
    readonly account = new MemoryAccount(),
  ) {}

  get budget(): number {
    return this.account.budget;
  }
  set budget(bytes: number) {
    this.account.budget = bytes;
  }

  take(bytes: number, label = 'pooled'): GPUBuffer {
    const size = Math.max(256, Math.ceil(bytes / 256) * 256);
    const reused = this.free.get(size)?.pop();
    if (reused) {
      this.idleBytes -= size;
      this.live++;
      this.liveBytes += size;
      return reused;
    }
    const max = this.device.limits.maxBufferSize;
    if (size > max)
      throw new Error(
        `A buffer of ${formatBytes(size)} exceeds this adapter's maxBufferSize (${formatBytes(max)}, ${max} bytes)`,
      );
    if (this.account.used + size > this.account.budget) this.trim();
    if (this.account.used + size > this.account.budget)
      throw new MemoryBudgetError(size, this.account.used, this.account.budget);
    const buffer = this.device.createBuffer({ label, size, usage: STORAGE_USAGE });
    this.created.add(buffer);
    this.account.used += size;
    this.live++;
    this.liveBytes += size;
    return buffer;
  }

  give(buffer: GPUBuffer): void {
    this.live--;
    this.liveBytes -= buffer.size;
    this.idleBytes += buffer.size;
    const list = this.free.get(buffer.size) ?? [];
    list.push(buffer);
    this.free.set(buffer.size, list);
  }

  /** Bytes a new allocation could still take within the budget (this pool's idle buffers count as free). */
  available(): number {
    return this.account.budget - this.account.used + this.idleBytes;
  }

  /** Buffers handed out and not yet returned (tests use this to find leaks). */
  stats(): { live: number; liveBytes: number; pooled: number; pooledBytes: number } {
    let pooled = 0;
    for (const l of this.free.values()) pooled += l.length;
    return { live: this.live, liveBytes: this.liveBytes, pooled, pooledBytes: this.idleBytes };
  }

  /** Destroys every idle buffer. */
  trim(): void {
    for (const l of this.free.values())
      for (const b of l) {
        this.created.delete(b);
        this.account.used -= b.size;
        b.destroy();
      }
    this.free.clear();
    this.idleBytes = 0;
  }

  /** Destroys every buffer this pool made, handed out or idle (for a pool whose users all end together). */
  destroyAll(): void {
    for (const b of this.created) {
      this.account.used -= b.size;
      b.destroy();
    }
    this.created.clear();
    this.free.clear();
    this.live = this.liveBytes = this.idleBytes = 0;
  }
}
