// `nsynth bench generate --browser`: the fast-generation benchmark inside headless Chromium, so that
// Chrome's WebGPU and Dawn in Node are measured on one machine by the same code
// (src/bench/generate-core.ts, bundled for the page as dist/browser/bench.js). Node serves the bundle
// (and the weights, with --model) on 127.0.0.1, a secure context as WebGPU requires, and drives the
// page through puppeteer-core, loaded only here so that the CLI runs without it.
import type { FusedShape } from '../ops/gen-step.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, LaunchOptions, Page } from 'puppeteer-core';
import type { AdapterDescription } from '../gpu/device.js';
import { serve } from '../util/static-server.js';
import { packageRoot } from '../util/package-root.js';
import type { Plan } from '../generate/tuning.js';
import { type BenchPage, type GenerateBenchRow, type PageVoice, TUNING_LOG_PREFIX } from './generate-core.js';
import type { GenerationPath } from '../generate/types.js';

/** Which WebGPU adapter Chromium is made to use. */
export type BrowserAdapter = 'swiftshader' | 'default';

export interface BrowserRunOptions {
  /** Config of the random model measured when `model` is absent. */
  config: string;
  /** A weights folder (served to the page) to measure instead of a random model of `config`. */
  model?: string;
  /** The Chromium binary (default: $CHROMIUM_PATH, else /usr/bin/chromium, Debian's package). */
  chromium?: string;
  /**
   * 'swiftshader' (default): WebGPU on Chromium's software Vulkan, present on every machine;
   * 'default': whatever adapter Chromium picks itself (a real GPU where it has one).
   */
  adapter?: BrowserAdapter;
  /** Everything in the page, from launch to the last row (default 30 minutes). */
  timeoutMs?: number;
}

export interface BrowserBenchOptions extends BrowserRunOptions {
  batches: number[];
  seconds: number;
  naiveSteps: number;
  path?: GenerationPath;
  weightStorage?: 'auto' | 'f32' | 'f16';
  fusedShape?: FusedShape;
}

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
const DEFAULT_TIMEOUT_MS = 30 * 60_000;

/** The flags Chromium is launched with for `adapter`. */
export function chromiumArgs(adapter: BrowserAdapter = 'swiftshader'): string[] {
  const common = [
    '--headless',
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--disable-gpu-sandbox',
    // a page that only computes must not be throttled as a background tab would be
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-sync',
  ];
  return adapter === 'swiftshader'
    ? [...common, '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader']
    : // Linux Chrome gives WebGPU a GPU only through Vulkan, which is off by default there.
      [...common, '--enable-features=Vulkan'];
}

/**
 * The adapter as a row names it: the engine's own name with Chrome's major version where Node's
 * would name the backend, e.g. "SwiftShader (Chrome 156, software)" beside Node's
 * "SwiftShader (Vulkan, software)".
 */
function chromeAdapterName(adapter: AdapterDescription, chromeVersion: string): string {
  const major = /\/(\d+)\./.exec(chromeVersion)?.[1] ?? chromeVersion;
  return adapter.name.replace(/\(browser(?=[,)])/, `(Chrome ${major}`);
}

// The page only loads the bundle; Node calls its functions through page.evaluate.
const PAGE = `<!doctype html><meta charset="utf-8"><title>nsynth-webgpu bench</title>
<script type="module">
import('/dist/bench.js').then(
  (m) => { window.nsynthBench = m; window.ready = true; },
  (e) => { window.loadError = String(e && e.stack || e); },
);
</script>`;

async function loadPuppeteer(): Promise<{ launch: (options: LaunchOptions) => Promise<Browser> }> {
  try {
    return { launch: (await import('puppeteer-core')).launch };
  } catch (e) {
    throw new Error(
      `--browser needs the npm package puppeteer-core (npm install puppeteer-core): ${(e as Error).message}`,
    );
  }
}

/**
 * Serves the bench bundle (and the model), launches Chromium on a page that loaded it, runs `work`
 * there, and closes everything whatever happens. The Chrome version is handed to `work` for naming.
 */
async function inBenchPage<T>(
  o: BrowserRunOptions,
  work: (page: Page, chromeVersion: string) => Promise<T>,
): Promise<T> {
  const chromium = o.chromium ?? process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM;
  if (!fs.existsSync(chromium))
    throw new Error(
      `Chromium not found at ${chromium}: install it (Debian/Ubuntu: apt-get install chromium) or name the binary ` +
        '(CHROMIUM_PATH=/path/to/chrome)',
    );
  const bundle = path.join(packageRoot(), 'dist', 'browser', 'bench.js');
  if (!fs.existsSync(bundle))
    throw new Error(
      `${bundle} is missing: build the browser bundles first (npm run build, or node tools/build-browser.js)`,
    );
  if (o.model && !fs.existsSync(path.join(o.model, 'manifest.json')))
    throw new Error(`${o.model}: no manifest.json (not a weights folder)`);
  const puppeteer = await loadPuppeteer();
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const routes: Record<string, string> = { '/dist/': path.dirname(bundle) };
  if (o.model) routes['/model/'] = path.resolve(o.model);

  let server: Awaited<ReturnType<typeof serve>> | undefined;
  let browser: Browser | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-bench-chromium-'));
  const pageErrors: string[] = [];
  // Set once the run is given up (finished, failed or timed out): a server or browser that comes up
  // after that closes at once.
  let abandoned = false;
  const cleanup = async () => {
    // Closing the browser also rejects a page.evaluate still waiting after a timeout.
    await (browser as Browser | undefined)?.close().catch(() => {});
    await server?.close();
    // Chromium may still be writing its profile as it exits; a leftover temp folder must not hide the result.
    try {
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch {}
  };
  const run = async (): Promise<T> => {
    server = await serve(routes, { '/': PAGE });
    if (abandoned) await server.close();
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: chromiumArgs(o.adapter),
      userDataDir: profile,
      // One page.evaluate runs the whole benchmark; puppeteer's own 180 s limit per call would cut it.
      protocolTimeout: timeoutMs + 60_000,
    });
    if (abandoned) await cleanup();
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
      else if (m.text().startsWith(TUNING_LOG_PREFIX)) console.error(m.text().slice(TUNING_LOG_PREFIX.length));
    });
    await page.goto(`${server.url}/`);
    await page.waitForFunction('window.ready === true || window.loadError !== undefined', { timeout: 60_000 });
    const loadError = await page.evaluate('window.loadError');
    if (loadError) throw new Error(`dist/browser/bench.js failed to load in Chromium: ${loadError}`);
    if (!(await page.evaluate('Boolean(navigator.gpu)')))
      throw new Error(
        `WebGPU is unavailable in Chromium (${chromium}): navigator.gpu is missing. Launched with ${chromiumArgs(o.adapter).join(' ')}`,
      );
    return work(page, await browser.version());
  };
  const running = run();
  // After a timeout the run still ends, rejected by the browser's closing: nobody awaits it then.
  running.catch(() => {});
  try {
    return await Promise.race([
      running,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the browser benchmark did not finish within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (e) {
    // What the page said often explains a failure better than the rejected call does.
    if (pageErrors.length > 0) (e as Error).message += `\npage errors:\n${pageErrors.join('\n')}`;
    throw e;
  } finally {
    abandoned = true;
    clearTimeout(timer);
    await cleanup();
  }
}

/**
 * `nsynth bench generate` in headless Chromium: the same rows as Node's (NumPy fields null), with
 * `adapter` naming Chrome's adapter and Chrome's version.
 */
export async function runGenerateBenchInBrowser(o: BrowserBenchOptions): Promise<GenerateBenchRow[]> {
  return inBenchPage(o, async (page, version) => {
    const params = {
      config: o.config,
      modelUrl: o.model ? '/model/' : undefined,
      batches: o.batches,
      seconds: o.seconds,
      naiveSteps: o.naiveSteps,
      path: o.path,
      weightStorage: o.weightStorage,
      fusedShape: o.fusedShape,
    };
    const got = (await page.evaluate(
      (p) => (window as unknown as BenchWindow).nsynthBench.runBrowserBench(p),
      params,
    )) as { adapter: AdapterDescription; rows: GenerateBenchRow[] };
    const adapter = chromeAdapterName(got.adapter, version);
    return got.rows.map((r) => ({ ...r, adapter }));
  });
}

/**
 * One seeded voice from the fast generator in Chromium (src/browser/bench-entry.ts, generateInPage:
 * embedding from `new Rng(seed)`, sampler seed `seed`), with the plan `auto` took there, for
 * comparing the page's generation with Node's.
 */
export async function generateInBrowser(
  o: BrowserRunOptions & { seconds: number; seed: number },
): Promise<{ adapter: string; plan: Plan; audio: Float32Array }> {
  return inBenchPage(o, async (page, version) => {
    const params = { config: o.config, modelUrl: o.model ? '/model/' : undefined, seconds: o.seconds, seed: o.seed };
    const got = (await page.evaluate(
      (p) => (window as unknown as BenchWindow).nsynthBench.generateInPage(p),
      params,
    )) as PageVoice;
    return { adapter: chromeAdapterName(got.adapter, version), plan: got.plan, audio: Float32Array.from(got.audio) };
  });
}

// What the page's window holds once dist/browser/bench.js has loaded.
interface BenchWindow {
  nsynthBench: BenchPage;
}
