// The kernel registry: WGSL files reflected with wgsl_reflect. Bind-group layouts, binding names,
// uniform struct layouts and @workgroup_size all come from the WGSL itself, so a kernel can be
// swapped for a faster variant without touching host code, as long as its bindings keep their names.
import { WgslReflect, ResourceType } from 'wgsl_reflect/wgsl_reflect.module.js';

/** A uniform value: numbers by field name, packed by the reflected struct layout. */
export type Params = Record<string, number>;

export interface BindingInfo {
  name: string;
  group: number;
  binding: number;
  kind: 'uniform' | 'storage';
  readOnly: boolean;
  /** Byte size of the fixed part (struct size for uniforms, 0 for runtime-sized arrays). */
  size: number;
  /** Element stride of a runtime-sized array, 0 otherwise. */
  stride: number;
  /** For uniform structs: field name -> [byte offset, scalar type]. */
  fields?: Map<string, { offset: number; type: string }>;
}

export interface BufferLike {
  buffer: GPUBuffer;
  /** Byte offset within `buffer` (default 0). */
  offset?: number;
  /** Bytes visible to the kernel (default: rest of the buffer). */
  size?: number;
}

export type BindValue = GPUBuffer | BufferLike | Params;

export interface Dispatch {
  kernel: Kernel;
  bindGroups: GPUBindGroup[];
  workgroups: [number, number, number];
  /** Uniform buffers created for this dispatch; freed by `destroy()`. */
  owned: GPUBuffer[];
}

export class Kernel {
  readonly bindings = new Map<string, BindingInfo>();
  readonly workgroupSize: [number, number, number];
  readonly pipeline: GPUComputePipeline;
  private readonly layouts: GPUBindGroupLayout[];

  constructor(
    readonly device: GPUDevice,
    readonly name: string,
    code: string,
    /** Values of the kernel's `override` constants (WGSL's pipeline-overridable constants). */
    constants: Record<string, number> = {},
  ) {
    const reflect = new WgslReflect(code);
    const entry = reflect.entry.compute[0];
    if (!entry) throw new Error(`kernels/${name}.wgsl has no @compute entry point`);
    const ws = entry.workgroupSize as number[] | null | undefined;
    // wgsl_reflect resolves an override named in @workgroup_size to its default; the value this
    // pipeline is compiled with is the constant's, where one is given
    // (its attribute's value: the written arguments, one as a string, several as an array)
    const written = entry.attributes?.find((a) => a.name === 'workgroup_size')?.value;
    const args = typeof written === 'string' ? [written] : Array.isArray(written) ? written : [];
    const size = (i: number) => {
      const name = args[i];
      return typeof name === 'string' && name in constants ? constants[name] : (ws?.[i] ?? 1);
    };
    this.workgroupSize = [size(0), size(1), size(2)];
    const groups: GPUBindGroupLayoutEntry[][] = [];
    for (const group of reflect.getBindGroups()) {
      for (const b of group) {
        if (!b) continue;
        const kind =
          b.resourceType === ResourceType.Uniform
            ? 'uniform'
            : b.resourceType === ResourceType.Storage
              ? 'storage'
              : null;
        if (!kind) throw new Error(`kernels/${name}.wgsl: binding ${b.name} is neither a uniform nor a storage buffer`);
        const info: BindingInfo = {
          name: b.name,
          group: b.group,
          binding: b.binding,
          kind,
          readOnly: kind === 'uniform' || b.access !== 'read_write',
          size: b.size ?? 0,
          stride: (b.type as { stride?: number }).stride ?? 0,
        };
        const members = (b.type as { members?: { name: string; offset: number; type: { name: string } }[] }).members;
        if (kind === 'uniform' && members) {
          info.fields = new Map(members.map((m) => [m.name, { offset: m.offset, type: m.type.name }]));
        }
        this.bindings.set(b.name, info);
        groups[b.group] ??= [];
        groups[b.group].push({
          binding: b.binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: kind === 'uniform' ? 'uniform' : info.readOnly ? 'read-only-storage' : 'storage' },
        });
      }
    }
    this.layouts = [];
    for (let g = 0; g < groups.length; g++) {
      this.layouts.push(device.createBindGroupLayout({ label: `${name}/group${g}`, entries: groups[g] ?? [] }));
    }
    const module = device.createShaderModule({ label: name, code });
    this.pipeline = device.createComputePipeline({
      label: name,
      layout: device.createPipelineLayout({ label: name, bindGroupLayouts: this.layouts }),
      compute: { module, entryPoint: entry.name, constants },
    });
  }

  /** Packs a uniform struct by its reflected layout; unknown or missing fields are errors. */
  packParams(bindingName: string, values: Params): ArrayBuffer {
    const info = this.bindings.get(bindingName)!;
    const out = new ArrayBuffer(Math.max(16, Math.ceil(info.size / 16) * 16));
    const view = new DataView(out);
    for (const key of Object.keys(values)) {
      if (!info.fields?.has(key)) throw new Error(`${this.name}: uniform "${bindingName}" has no field "${key}"`);
    }
    for (const [field, { offset, type }] of info.fields ?? []) {
      const v = values[field];
      if (v === undefined) throw new Error(`${this.name}: uniform "${bindingName}" field "${field}" was not given`);
      if (!Number.isFinite(v)) throw new Error(`${this.name}: uniform field "${field}" is ${v}`);
      if (type === 'f32') view.setFloat32(offset, v, true);
      else if (type === 'i32') view.setInt32(offset, v, true);
      else if (type === 'u32') {
        if (v < 0 || !Number.isInteger(v)) throw new Error(`${this.name}: uniform field "${field}" (u32) is ${v}`);
        view.setUint32(offset, v, true);
      } else throw new Error(`${this.name}: uniform field "${field}" has unsupported type ${type}`);
    }
    return out;
  }

  /**
   * Binds buffers by their WGSL names and fixes the grid. Everything is checked here, at the call
   * site, so a wrong name or size never turns into a validation error at submit time.
   */
  prepare(values: Record<string, BindValue>, workgroups: [number, number?, number?]): Dispatch {
    const owned: GPUBuffer[] = [];
    const perGroup: GPUBindGroupEntry[][] = this.layouts.map(() => []);
    for (const name of Object.keys(values)) {
      if (!this.bindings.has(name)) {
        throw new Error(`${this.name}: no binding named "${name}" (bindings: ${[...this.bindings.keys()].join(', ')})`);
      }
    }
    for (const [name, info] of this.bindings) {
      const v = values[name];
      if (v === undefined) throw new Error(`${this.name}: binding "${name}" was not given`);
      let resource: GPUBufferBinding;
      if (info.kind === 'uniform' && !isBuffer(v) && !isBufferLike(v)) {
        const data = this.packParams(name, v as Params);
        const buf = this.device.createBuffer({
          label: `${this.name}.${name}`,
          size: data.byteLength,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        });
        this.device.queue.writeBuffer(buf, 0, data);
        owned.push(buf);
        resource = { buffer: buf };
      } else {
        if (!isBuffer(v) && !isBufferLike(v)) throw new Error(`${this.name}: binding "${name}" needs a GPU buffer`);
        const b = isBuffer(v) ? { buffer: v } : v;
        const offset = b.offset ?? 0;
        const size = b.size ?? b.buffer.size - offset;
        if (offset % 256 !== 0)
          throw new Error(`${this.name}: binding "${name}" offset ${offset} is not a multiple of 256`);
        if (offset + size > b.buffer.size)
          throw new Error(
            `${this.name}: binding "${name}" range ${offset}+${size} exceeds buffer size ${b.buffer.size}`,
          );
        if (size < info.size)
          throw new Error(`${this.name}: binding "${name}" has ${size} bytes, the WGSL type needs ${info.size}`);
        if (info.stride > 0 && size % 4 !== 0)
          throw new Error(`${this.name}: binding "${name}" size ${size} is not a multiple of 4`);
        resource = { buffer: b.buffer, offset, size };
      }
      perGroup[info.group].push({ binding: info.binding, resource });
    }
    const bindGroups = this.layouts.map((layout, g) =>
      this.device.createBindGroup({ label: `${this.name}/group${g}`, layout, entries: perGroup[g] }),
    );
    const [x, y = 1, z = 1] = workgroups;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    for (const n of [x, y, z]) {
      if (!Number.isInteger(n) || n < 1 || n > max)
        throw new Error(`${this.name}: workgroup count ${n} outside 1..${max}`);
    }
    return { kernel: this, bindGroups, workgroups: [x, y, z], owned };
  }
}

function isBuffer(v: unknown): v is GPUBuffer {
  return typeof v === 'object' && v !== null && typeof (v as GPUBuffer).mapAsync === 'function';
}
function isBufferLike(v: unknown): v is BufferLike {
  return typeof v === 'object' && v !== null && isBuffer((v as BufferLike).buffer);
}

/** Where kernel text comes from: files in Node, strings bundled by esbuild in the browser. */
export type KernelSource = (name: string) => string | Promise<string>;

export class KernelRegistry {
  private readonly cache = new Map<string, Promise<Kernel>>();
  constructor(
    private readonly device: GPUDevice,
    private readonly source: KernelSource,
  ) {}

  /**
   * The kernel `name`, compiled once per set of `override` constants: a kernel specialised to a
   * model's widths this way has constant loop bounds, which the compiler unrolls.
   */
  get(name: string, constants: Record<string, number> = {}): Promise<Kernel> {
    const keys = Object.keys(constants).sort();
    const key = keys.length ? `${name}(${keys.map((k) => `${k}=${constants[k]}`).join(',')})` : name;
    let k = this.cache.get(key);
    if (!k) {
      k = Promise.resolve()
        .then(() => withIncludes(name, this.source))
        .then((code) => new Kernel(this.device, key, code, constants));
      this.cache.set(key, k);
      k.catch(() => this.cache.delete(key)); // a failed load may be retried
    }
    return k;
  }

  /** Every kernel fetched so far (for reports). */
  names(): string[] {
    return [...this.cache.keys()];
  }
}

/**
 * WGSL has no includes; kernels that share functions name them with a comment line
 * `//! include lib_name`, replaced here by that file's text (each file at most once).
 */
export async function withIncludes(name: string, source: KernelSource, seen = new Set<string>()): Promise<string> {
  seen.add(name);
  const code = await source(name);
  const lines = code.split('\n');
  const out: string[] = [];
  for (const line of lines) {
    const m = /^\/\/! include (\w+)\s*$/.exec(line);
    if (!m) out.push(line);
    else if (!seen.has(m[1])) out.push(await withIncludes(m[1], source, seen));
  }
  return out.join('\n');
}

/** Records one prepared dispatch into a compute pass. */
export function encodeDispatch(pass: GPUComputePassEncoder, d: Dispatch): void {
  pass.setPipeline(d.kernel.pipeline);
  for (let i = 0; i < d.bindGroups.length; i++) pass.setBindGroup(i, d.bindGroups[i]);
  pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
}

/** Records dispatches into one compute pass. */
export function encodeDispatches(pass: GPUComputePassEncoder, list: Dispatch[]): void {
  for (const d of list) encodeDispatch(pass, d);
}

export function destroyDispatches(list: Dispatch[]): void {
  for (const d of list) for (const b of d.owned) b.destroy();
  for (const d of list) d.owned.length = 0;
}
