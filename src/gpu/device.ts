// Getting a GPUDevice in Node (Dawn's `webgpu` package) or in the browser (navigator.gpu).
//
// On machines without a GPU, WebGPU runs on a software Vulkan driver. The Vulkan loader reads
// VK_ICD_FILENAMES when Dawn creates its instance, so the choice must be made before `create()`.

import { dawnPollInterval, throttleDawnPolling } from './dawn-polling.js';

export type AdapterChoice = 'auto' | 'hardware' | 'lavapipe' | 'swiftshader' | string;

export interface DeviceOptions {
  /**
   * Which adapter to use. `auto` (default): the first hardware adapter, else lavapipe, else
   * SwiftShader. `lavapipe` / `swiftshader`: those software Vulkan drivers. `hardware`: refuse
   * software adapters. `gpu:N` (Node, Linux): the Nth GPU on the PCI bus, as nvidia-smi numbers
   * them (through Mesa's device-select layer: see gpuSelectEnv). Anything ending in `.json` is taken as a Vulkan ICD file. In Node the
   * environment variable NSYNTH_ADAPTER sets the default.
   */
  adapter?: AdapterChoice;
  /** Optional WebGPU features to enable when the adapter has them (default: shader-f16, subgroups, timestamp-query). */
  features?: GPUFeatureName[];
}

export interface AcquiredDevice {
  device: GPUDevice;
  adapterInfo: AdapterDescription;
  features: Set<string>;
  /** Keeps Dawn's instance alive in Node (dropping it lets the process exit). */
  release(): void;
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** 'cpu' for software adapters where the implementation says so. */
  type: string;
  backend: string;
  /** A one-line name for reports: "lavapipe (llvmpipe) (Vulkan, software)", "NVIDIA: 580.159.04 (Vulkan)". */
  name: string;
  /** The smallest subgroup the adapter may run (0 where it does not say). */
  subgroupMinSize: number;
}

export const SOFTWARE_ICDS: Record<string, string> = {
  lavapipe: '/usr/share/vulkan/icd.d/lvp_icd.json',
  swiftshader: '/usr/lib/chromium/vk_swiftshader_icd.json',
};

const INSTALL_HINT =
  'No usable WebGPU adapter. Install a GPU driver with Vulkan support, or a software Vulkan driver: ' +
  "on Debian 12, Mesa's lavapipe from bookworm-backports (`apt-get install -t bookworm-backports " +
  "mesa-vulkan-drivers`) or Debian's `chromium` package (SwiftShader). Then choose it with " +
  'NSYNTH_ADAPTER=lavapipe|swiftshader (see README).';

/**
 * What a web visitor can do when a page finds no WebGPU: `missing` when navigator.gpu is absent,
 * `no-adapter` when requestAdapter() gives null. (Node's advice, INSTALL_HINT, is about drivers.)
 */
export function browserWebGpuHelp(why: 'missing' | 'no-adapter'): string {
  const g = globalThis as unknown as { isSecureContext?: boolean; location?: { origin?: string } };
  if (why === 'missing' && g.isSecureContext === false)
    return (
      `WebGPU needs a secure context, and this page (${g.location?.origin ?? 'this origin'}) is not one: open it ` +
      'over https://, or from http://127.0.0.1 or http://localhost on this machine.'
    );
  const linux =
    'On Linux, Chrome still has WebGPU behind flags: enable chrome://flags/#enable-unsafe-webgpu (and ' +
    '#enable-vulkan), then relaunch.';
  if (why === 'missing')
    return (
      'This browser has no WebGPU (navigator.gpu is missing). Use Chrome or Edge 113 or newer (Windows, macOS, ' +
      `ChromeOS; Android from 121), Safari 26, or Firefox 141 or newer on Windows. ${linux} Firefox elsewhere: ` +
      'set dom.webgpu.enabled to true in about:config.'
    );
  return (
    'This browser has WebGPU but found no usable GPU adapter (navigator.gpu.requestAdapter() gave none): ' +
    'graphics acceleration may be off, or the GPU blocklisted. Turn on "Use graphics acceleration when ' +
    `available" in the browser's settings; in Chrome, chrome://gpu says why WebGPU is unavailable. ${linux} ` +
    'Without a GPU, Chrome can run WebGPU in software (SwiftShader) when started with --enable-unsafe-webgpu ' +
    '--enable-unsafe-swiftshader.'
  );
}

const DEFAULT_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups' as GPUFeatureName, 'timestamp-query'];

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
}

/** Requests a device with the adapter's larger limits (storage bindings hold whole weight matrices). */
async function deviceFrom(adapter: GPUAdapter, wanted: GPUFeatureName[]): Promise<GPUDevice> {
  const features = wanted.filter((f) => adapter.features.has(f));
  const lim = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
    maxBufferSize: lim.maxBufferSize,
    maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupsPerDimension: lim.maxComputeWorkgroupsPerDimension,
  };
  return adapter.requestDevice({ requiredFeatures: features, requiredLimits });
}

function describe(adapter: GPUAdapter, backend: string): AdapterDescription {
  // `adapter.info` is standard; older implementations only had requestAdapterInfo().
  const info = (adapter as unknown as { info?: GPUAdapterInfo }).info;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const type = ((info as unknown as { type?: string })?.type ?? '').toString();
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  let label = description || device || vendor || 'unknown adapter';
  if (text.includes('llvmpipe') || text.includes('lavapipe')) label = 'lavapipe (llvmpipe)';
  else if (text.includes('swiftshader')) label = 'SwiftShader';
  const isCpu = type.includes('cpu') || /llvmpipe|lavapipe|swiftshader/.test(text);
  return {
    vendor,
    architecture,
    device,
    description,
    type: isCpu ? 'cpu' : type || 'gpu',
    backend,
    name: `${label} (${backend}${isCpu ? ', software' : ''})`,
    subgroupMinSize: (info as unknown as { subgroupMinSize?: number })?.subgroupMinSize ?? 0,
  };
}

/** True where the adapter is a CPU implementation of Vulkan rather than a GPU. */
export function isSoftwareAdapter(d: AdapterDescription): boolean {
  return d.type === 'cpu';
}

export async function acquireDevice(options: DeviceOptions = {}): Promise<AcquiredDevice> {
  const wanted = options.features ?? DEFAULT_FEATURES;
  if (!isNode()) return acquireBrowser(wanted);
  const choice = options.adapter ?? process.env.NSYNTH_ADAPTER ?? 'auto';
  return acquireNode(choice, wanted);
}

async function acquireBrowser(wanted: GPUFeatureName[]): Promise<AcquiredDevice> {
  const gpu = (globalThis as unknown as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new Error(browserWebGpuHelp('missing'));
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(browserWebGpuHelp('no-adapter'));
  const device = await deviceFrom(adapter, wanted);
  return { device, adapterInfo: describe(adapter, 'browser'), features: new Set(device.features), release() {} };
}

async function acquireNode(choice: string, wanted: GPUFeatureName[]): Promise<AcquiredDevice> {
  let icd: string | undefined;
  const fs = await import('node:fs');
  const gpuIndex = /^gpu:(\d+)$/.exec(choice);
  if (choice === 'lavapipe' || choice === 'swiftshader') icd = SOFTWARE_ICDS[choice];
  else if (choice.endsWith('.json')) icd = choice;
  else if (gpuIndex) {
    // Without the layer, DRI_PRIME means nothing to Vulkan and every process would take the first GPU.
    const layer = DEVICE_SELECT_LAYERS.find((f) => fs.existsSync(f));
    if (!layer)
      throw new Error(
        `--adapter ${choice} needs Mesa's device-select Vulkan layer (${DEVICE_SELECT_LAYERS[0]}, from mesa-vulkan-drivers) ` +
          'to choose a GPU by number; without it, give each process its own GPU through the scheduler ' +
          '(Kubernetes nvidia.com/gpu: 1, Slurm --gpus-per-task=1, docker --gpus device=N)',
      );
    Object.assign(process.env, gpuSelectEnv(Number(gpuIndex[1]), pciDisplayDevices(fs)));
  } else if (choice !== 'auto' && choice !== 'hardware') {
    throw new Error(
      `Unknown adapter choice "${choice}": use auto, hardware, gpu:N, lavapipe, swiftshader or a Vulkan ICD .json path.`,
    );
  }
  if (icd) {
    if (!fs.existsSync(icd))
      throw new Error(`Vulkan ICD file ${icd} (adapter "${choice}") does not exist. ${INSTALL_HINT}`);
    process.env.VK_ICD_FILENAMES = icd;
  } else if (choice === 'auto' && !process.env.VK_ICD_FILENAMES) {
    // No hardware Vulkan driver installed: fall back to lavapipe, then SwiftShader, without
    // asking the user. With a hardware ICD present the loader enumerates it and Dawn prefers it.
    const hw = hardwareIcdPresent(fs);
    if (!hw) {
      const soft = [SOFTWARE_ICDS.lavapipe, SOFTWARE_ICDS.swiftshader].find((p) => fs.existsSync(p));
      if (soft) process.env.VK_ICD_FILENAMES = soft;
    }
  }
  let webgpu: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    webgpu = (await import('webgpu')) as unknown as typeof webgpu;
  } catch (e) {
    throw new Error(`Cannot load Dawn's Node binding (npm package "webgpu"): ${(e as Error).message}`);
  }
  for (const [k, v] of Object.entries(webgpu.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  // One Dawn instance per process and driver, shared by every engine: with two instances on
  // lavapipe, destroying one crashed the process later ("futex facility returned an unexpected
  // error code"). It lives while an engine uses it.
  const key = process.env.VK_ICD_FILENAMES ?? '';
  if (!sharedInstance || sharedInstance.key !== key) {
    if (sharedInstance && sharedInstance.users > 0)
      throw new Error(
        `An engine on another Vulkan driver (${sharedInstance.key || 'auto'}) is alive in this process; destroy it first`,
      );
    // Timestamps unrounded: Dawn rounds them to 65 us by default (a web page's timing-attack guard),
    // longer than most dispatches a profile times (src/bench/dispatch-profile.ts).
    sharedInstance = {
      key,
      gpu: webgpu.create(['backend=vulkan', 'disable-dawn-features=timestamp_quantization']),
      users: 0,
    };
  }
  const instance = sharedInstance;
  const gpu = instance.gpu;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(INSTALL_HINT);
  const adapterInfo = describe(adapter, 'Vulkan');
  if (gpuIndex && isSoftwareAdapter(adapterInfo))
    throw new Error(
      `Adapter "${choice}" was asked for, but Vulkan listed ${adapterInfo.name} first: Mesa's device-select layer ` +
        '(mesa-vulkan-drivers) is needed to choose a GPU by number; or give each process its own GPU through the scheduler',
    );
  if (choice === 'hardware' && isSoftwareAdapter(adapterInfo)) {
    throw new Error(
      `Adapter "hardware" was asked for, but the only adapter is ${adapterInfo.name}. Install a GPU driver.`,
    );
  }
  // A CPU adapter's cores are the binding's to spare only if its waits do not spin (dawn-polling.ts).
  const poll = isSoftwareAdapter(adapterInfo) ? dawnPollInterval(process.env) : null;
  const device = await deviceFrom(adapter, wanted);
  instance.users++;
  const unthrottle = poll === null ? () => {} : throttleDawnPolling(poll);
  let released = false;
  return {
    device,
    adapterInfo,
    features: new Set(device.features),
    release() {
      if (released) return;
      released = true;
      unthrottle();
      // Dawn's instance lives as long as a reference to it (see the webgpu README): the last engine drops it.
      if (--instance.users === 0 && sharedInstance === instance) sharedInstance = null;
    },
  };
}

let sharedInstance: { key: string; gpu: GPU; users: number } | null = null;

/** Where distributions install Mesa's device-select layer (an implicit layer: on for every Vulkan program). */
const DEVICE_SELECT_LAYERS = [
  '/usr/share/vulkan/implicit_layer.d/VkLayer_MESA_device_select.json',
  '/etc/vulkan/implicit_layer.d/VkLayer_MESA_device_select.json',
  '/usr/local/share/vulkan/implicit_layer.d/VkLayer_MESA_device_select.json',
];

/** What pciDisplayDevices reads with (node:fs; declared here so the browser's types need no Node types). */
export interface SysfsReader {
  readdirSync(dir: string): string[];
  readFileSync(file: string, encoding: 'utf8'): string;
}

/** A display controller on the PCI bus: its address (0000:3b:00.0) and vendor:device ids. */
export interface PciDisplay {
  address: string;
  vendor: string;
  device: string;
}

/**
 * Display chips that are not GPUs to render on: a server's BMC (ASPEED, Matrox) and virtual
 * machines' emulated displays (QEMU, QXL, VMware, Cirrus) are VGA controllers too.
 */
const NVIDIA = '0x10de';
const NOT_GPU_VENDORS = new Set(['0x1a03', '0x102b', '0x1234', '0x1b36', '0x15ad', '0x1013']);

/**
 * The machine's GPUs (PCI class 03: VGA and 3D controllers such as an H100; BMC and emulated display
 * chips left out; where there are NVIDIA GPUs, only those), in bus order: the order nvidia-smi
 * numbers them in.
 */
export function pciDisplayDevices(fs: SysfsReader, root = '/sys/bus/pci/devices'): PciDisplay[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const read = (dir: string, f: string) => {
    try {
      return fs.readFileSync(`${root}/${dir}/${f}`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  return names
    .filter((n) => read(n, 'class').startsWith('0x03'))
    .sort()
    .map((address) => ({ address, vendor: read(address, 'vendor'), device: read(address, 'device') }))
    .filter((d) => !NOT_GPU_VENDORS.has(d.vendor))
    .filter((d, _, all) => !all.some((x) => x.vendor === NVIDIA) || d.vendor === NVIDIA); // nvidia-smi's view
}

/**
 * The environment that makes GPU number `n` the only adapter Vulkan lists, for one process per GPU
 * on a multi-GPU machine: Dawn takes the first adapter the loader lists, and WebGPU has no way to
 * ask for "the third of eight identical cards". Mesa's device-select layer (installed with
 * mesa-vulkan-drivers) moves the device DRI_PRIME names to the front and, forced, lists it alone.
 * Where that layer is absent, give each process its own GPU through the scheduler instead
 * (Kubernetes nvidia.com/gpu: 1, Slurm --gpus-per-task=1, docker --gpus device=N).
 */
export function gpuSelectEnv(n: number, devices: PciDisplay[]): Record<string, string> {
  const d = devices[n];
  if (!d)
    throw new Error(
      `--adapter gpu:${n}: this machine has ${devices.length} display controller${devices.length === 1 ? '' : 's'} on the PCI bus` +
        (devices.length ? ` (${devices.map((x, i) => `gpu:${i} ${x.address}`).join(', ')})` : '') +
        '; software adapters have no index (use lavapipe or swiftshader)',
    );
  const [domain, bus, rest] = d.address.split(':');
  const [slot, fn] = rest.split('.');
  return { DRI_PRIME: `pci-${domain}_${bus}_${slot}_${fn}`, MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: '1' };
}

function hardwareIcdPresent(fs: typeof import('node:fs')): boolean {
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const software = /lvp_icd|swiftshader/;
  // Mesa ships ICDs for many GPU families; they only help where a matching /dev/dri node exists.
  const hasDri = fs.existsSync('/dev/dri');
  for (const dir of dirs) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!n.endsWith('.json') || software.test(n)) continue;
      if (n.includes('nvidia')) return true;
      if (hasDri) return true;
    }
  }
  return fs.existsSync('/dev/nvidia0') || fs.existsSync('/dev/nvidiactl');
}
