// The browser bundle in headless Chromium (WebGPU on SwiftShader): the tiny model's encoder,
// decoder and fast generator run in the page, loading weights over HTTP, and agree with Node's.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'puppeteer-core';
import { testEngine, expectClose } from './helpers.js';
import { loadModel } from '../src/nsynth.js';
import { initWeights } from '../src/model/weights.js';
import { getConfig } from '../src/model/config.js';
import { writeWeightsDir } from '../src/formats/weights-node.js';
import { serve } from '../src/util/static-server.js';
import { chromiumAvailable, launchChromium, CHROMIUM } from './browser/chromium.js';

const ROOT = path.resolve(__dirname, '..');
const BUNDLE = path.join(ROOT, 'dist/browser');
const T = 1024;
const audioFormula = (t: number) => 0.5 * Math.sin(t / 9) * Math.exp(-t / 2000) + 0.1 * Math.sin(t / 2.3);

const PAGE = `<!doctype html><meta charset="utf-8"><title>nsynth-webgpu test</title>
<script type="module">
import { createEngine, loadModel, StreamPlayer, playStream } from '/dist/nsynth.js';
window.runModel = async () => {
  const engine = await createEngine();
  const model = await loadModel(engine, '/model/');
  const audio = Float32Array.from({ length: ${T} }, (_, t) => ${audioFormula.toString().replace(/^\(t\) => /, '')});
  const emb = await model.encode(audio);
  const logits = await model.teacherForcedLogits(audio, emb);
  // fast generation in the page: teacher-forced step logits, and sampled audio in chunks
  const teacher = [new Uint32Array(${T}).map((_, t) => (t * 37) % 256)];
  const stepLogits = new Float32Array(${T} * 256);
  let chunks = 0;
  for await (const c of model.stream(emb, { teacher, recordLogits: true, chunkSize: 256 })) { stepLogits.set(c.logits[0], c.start * 256); chunks++; }
  const sampled = await model.generate(emb, { seed: 3 });
  let bad = null;
  try { await loadModel(engine, '/broken/'); } catch (e) { bad = e.message; }
  model.dispose();
  return { adapter: engine.adapter.name, embShape: emb.shape, emb: Array.from(emb.data), logitsShape: logits.shape, logits: Array.from(logits.data), bad,
    stepLogits: Array.from(stepLogits), chunks, sampledLength: sampled.length, sampledFinite: sampled.every(Number.isFinite) };
};
// The device lost mid-stream (as a GPU reset would): the stream rejects naming it; a retry on a new engine works.
window.loseDevice = async () => {
  const engine = await createEngine();
  const model = await loadModel(engine, '/model/');
  const emb = await model.encode(new Float32Array(${T}).map((_, t) => Math.sin(t / 5) * 0.3));
  let lost = null;
  try { for await (const c of model.stream(emb, { chunkSize: 256, firstChunkSize: 256 })) engine.device.destroy(); }
  catch (e) { lost = e.message; }
  const retryEngine = await createEngine();
  const retry = await loadModel(retryEngine, '/model/');
  const audio = await retry.generate(await retry.encode(new Float32Array(${T})), { seed: 1 });
  return { lost, retryLength: audio.length, retryFinite: audio.every(Number.isFinite) };
};
// Live playback through the AudioWorklet in a 48 kHz context (the worklet resamples the 16 kHz
// stream): 0.1 s, a gap the player must count as one underrun, 0.1 s more, then the end.
window.playStreamed = async () => {
  const context = new AudioContext({ sampleRate: 48000 });
  const player = await StreamPlayer.create({ context, prebufferSeconds: 0.05 });
  const tone = (n) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i / 5));
  const first = tone(1600);
  await player.push(first);
  const pushedKept = first.length;
  const until = async (ok) => { for (let i = 0; i < 200 && !ok(player.stats()); i++) await new Promise((r) => setTimeout(r, 25)); };
  await until((s) => s.underruns > 0);
  const gap = player.stats();
  await player.push(tone(1600));
  player.end();
  const end = await player.done();
  await player.close();
  // playStream: the same over model.stream's chunks (here a stand-in), resolving once all has played.
  const chunks = async function* () { for (let at = 0; at < 2400; at += 800) yield { start: at, end: at + 800, audio: [tone(2400).subarray(at, at + 800)] }; };
  const streamed = await playStream(chunks(), { context, prebufferSeconds: 0.02 });
  const sameAudio = streamed.audio.length === 2400 && streamed.audio.every((v, i) => v === tone(2400)[i]);
  await context.close();
  return { gap, end, pushedKept, streamed: streamed.stats, sameAudio };
};
window.ready = true;
</script>`;

const run = chromiumAvailable() && fs.existsSync(path.join(BUNDLE, 'nsynth.js'));

describe('browser bundle in headless Chromium', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serve>>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-browser-'));

  beforeAll(async () => {
    if (!run) return;
    const w = initWeights(getConfig('tiny'), 31, { biasScale: 0.1 });
    writeWeightsDir(path.join(dir, 'model'), w);
    writeWeightsDir(path.join(dir, 'broken'), w);
    const bin = path.join(dir, 'broken', 'weights.bin');
    fs.truncateSync(bin, fs.statSync(bin).size - 64);
    server = await serve(
      { '/dist/': BUNDLE, '/model/': path.join(dir, 'model'), '/broken/': path.join(dir, 'broken') },
      { '/': PAGE },
    );
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs the encoder and decoder in the page and matches Node within 1e-4', async (ctx) => {
    if (!run) {
      console.warn(
        `browser test skipped: ${CHROMIUM} or dist/browser/nsynth.js is missing (apt-get install chromium; npm run ` +
          `build)`,
      );
      ctx.skip();
    }
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/`);
    await page.waitForFunction('window.ready === true', { timeout: 30_000 });
    const got = (await page.evaluate('window.runModel()')) as {
      adapter: string;
      embShape: number[];
      emb: number[];
      logitsShape: number[];
      logits: number[];
      bad: string;
      stepLogits: number[];
      chunks: number;
      sampledLength: number;
      sampledFinite: boolean;
    };
    expect(errors).toEqual([]);
    expect(got.adapter).toMatch(/\S/);
    expect(got.embShape).toEqual([2, 16]);
    expect(got.logitsShape).toEqual([T, 256]);
    expect(got.bad).toMatch(/weights\.bin: \d+ bytes, the manifest says \d+ \(truncated\)/);

    const e = await testEngine();
    const model = await loadModel(e, path.join(dir, 'model'));
    const audio = Float32Array.from({ length: T }, (_, t) => audioFormula(t));
    const emb = await model.encode(audio);
    const logits = await model.teacherForcedLogits(audio, emb);
    expectClose(got.emb, emb.data, 1e-4, 1e-5, 'browser embedding');
    expectClose(got.logits, logits.data, 1e-4, 1e-4, 'browser logits');
    // the page's fast generator (teacher-forced) against Node's
    expect(got.chunks).toBe(Math.ceil((T - 256) / 256) + 1);
    expect(got.sampledLength).toBe(T);
    expect(got.sampledFinite).toBe(true);
    const teacher = [new Uint32Array(T).map((_, t) => (t * 37) % 256)];
    const nodeSteps = new Float32Array(T * 256);
    for await (const c of model.stream(emb, { teacher, recordLogits: true }))
      nodeSteps.set(c.logits![0], c.start * 256);
    expectClose(got.stepLogits, nodeSteps, 1e-4, 1e-4, 'browser generation step logits');
    model.dispose();
    // losing the device mid-stream: a named error, and a retry on a new engine in the same page
    const lost = (await page.evaluate('window.loseDevice()')) as {
      lost: string;
      retryLength: number;
      retryFinite: boolean;
    };
    expect(lost.lost).toMatch(/WebGPU device lost \(destroyed.*\); create a new engine to continue/);
    expect(lost.retryLength).toBe(T);
    expect(lost.retryFinite).toBe(true);
    expect(errors).toEqual([]);
  });

  it('plays a stream through the AudioWorklet at another rate, counting an underrun once', async (ctx) => {
    if (!run) ctx.skip();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/`);
    await page.waitForFunction('window.ready === true', { timeout: 30_000 });
    type Stats = { [k: string]: number | boolean };
    const got = (await page.evaluate('window.playStreamed()')) as {
      gap: Stats;
      end: Stats;
      pushedKept: number;
      streamed: Stats;
      sameAudio: boolean;
    };
    expect(errors).toEqual([]);
    expect(got.pushedKept).toBe(1600); // push copies: the caller's array is not detached
    expect(got.gap).toMatchObject({ contextSampleRate: 48000, sampleRate: 16000, started: true, underruns: 1 });
    expect(got.gap.playedSeconds).toBeCloseTo(0.1, 9);
    expect(got.end).toMatchObject({ underruns: 1, drained: true, bufferedSeconds: 0 });
    expect(got.end.pushedSeconds).toBeCloseTo(0.2, 9);
    expect(got.end.playedSeconds).toBeCloseTo(0.2, 9);
    expect(got.end.starvedSeconds as number).toBeGreaterThan(0);
    expect(got.sameAudio).toBe(true);
    expect(got.streamed).toMatchObject({ drained: true, bufferedSeconds: 0 });
    expect(got.streamed.playedSeconds).toBeCloseTo(0.15, 9);
    await page.close();
  });
});

describe('browser bundle in a consumer build', () => {
  it("bundles into a page with esbuild's defaults: no Node module is left for the consumer to resolve", async (ctx) => {
    const bundle = path.join(BUNDLE, 'nsynth.js');
    if (!fs.existsSync(bundle)) {
      console.warn('browser bundle test skipped: dist/browser/nsynth.js is missing (npm run build)');
      ctx.skip();
    }
    const esbuild = await import('esbuild');
    const page =
      `import { createEngine, isSupported, loadModel } from ${JSON.stringify(bundle)};\n` +
      'console.log(createEngine, isSupported, loadModel);\n';
    const r = await esbuild.build({
      stdin: { contents: page, resolveDir: ROOT, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    expect(r.errors).toEqual([]);
    const out = r.outputFiles[0].text;
    expect(out).not.toMatch(/import\(\s*["'](node:|webgpu)/);
    // The Node-only paths are still there, as modules that say so if ever loaded.
    expect(out).toContain(
      "webgpu is not in nsynth-webgpu/browser (a page or worker build); in Node, import 'nsynth-webgpu'",
    );
  });
});
