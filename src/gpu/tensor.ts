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

/** Buffers rounded up to 256 bytes and recycled by size. */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private live = 0;
  private liveBytes = 0;
  constructor(private readonly device: GPUDevice) {}

  take(bytes: number, label = 'pooled'): GPUBuffer {
    const size = Math.max(256, Math.ceil(bytes / 256) * 256);
    const list = this.free.get(size);
    const reused = list?.pop();
    this.live++;
    this.liveBytes += size;
    if (reused) return reused;
    const max = this.device.limits.maxBufferSize;
    if (size > max) throw new Error(`A ${size}-byte buffer exceeds this adapter's maxBufferSize (${max})`);
    return this.device.createBuffer({ label, size, usage: STORAGE_USAGE });
  }

  give(buffer: GPUBuffer): void {
    this.live--;
    this.liveBytes -= buffer.size;
    const list = this.free.get(buffer.size) ?? [];
    list.push(buffer);
    this.free.set(buffer.size, list);
  }

  /** Buffers handed out and not yet returned (tests use this to find leaks). */
  stats(): { live: number; liveBytes: number; pooled: number } {
    let pooled = 0;
    for (const l of this.free.values()) pooled += l.length;
    return { live: this.live, liveBytes: this.liveBytes, pooled };
  }

  /** Destroys every idle buffer. */
  trim(): void {
    for (const l of this.free.values()) for (const b of l) b.destroy();
    this.free.clear();
  }
}
