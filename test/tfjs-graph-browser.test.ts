// The exported default model in a web page: headless Chromium loads it with plain TensorFlow.js
// (tf.loadGraphModel over HTTP, the WebGPU backend on SwiftShader, the backend this software
// adapter offers; tfjs-backend-webgl is not a dependency) and reproduces our engine's logits and
// embedding on a real note.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaledError } from '../src/bench/tfjs-graph.js';
import { writeTfjsGraphModel } from '../src/convert/tfjs-graph.js';
import { readWav16k } from '../src/formats/wav.js';
import { readWeightsDir } from '../src/formats/weights-node.js';
import { modelFromWeights } from '../src/nsynth.js';
import { serve } from '../src/util/static-server.js';
import { CHROMIUM, chromiumAvailable, launchChromium } from './browser/chromium.js';
import { testEngine } from './helpers.js';

const ROOT = path.resolve(__dirname, '..');
const NOTE = path.resolve(ROOT, '../shared/data/nsynth/guitar_acoustic_010-060-127.wav');
const T = 2048;
const FROM = 2048;

// The page: what a TensorFlow.js developer would write (the five lines of the README), plus the
// transfer of results back as base64 (a million floats as a JSON array would be slow).
const ENTRY = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
const b64 = (f) => { let s = ''; const u = new Uint8Array(f.buffer); for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000)); return btoa(s); };
window.runExported = async (audioB64, pitch) => {
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its webgpu backend');
  const model = await loadGraphModel('/model/model.json');
  const audio = new Float32Array(Uint8Array.from(atob(audioB64), (c) => c.charCodeAt(0)).buffer);
  const [logits, embedding] = model.execute(
    { audio: tf.tensor2d(audio, [1, audio.length]), pitch: tf.tensor1d([pitch], 'int32') },
    ['logits', 'embedding'],
  );
  const out = { backend: tf.getBackend(), logitsShape: logits.shape, embeddingShape: embedding.shape,
    logits: b64(await logits.data()), embedding: b64(await embedding.data()) };
  tf.dispose([logits, embedding]);
  return out;
};
window.ready = true;
`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>tfjs GraphModel</title>
<script type="module" src="/js/page.js"></script>`;

const run = chromiumAvailable() && fs.existsSync(NOTE);

const floats = (b64: string) => new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer);

describe('the exported default model in headless Chromium with TensorFlow.js', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serve>>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-tfjs-page-'));
  const weights = readWeightsDir(path.join(ROOT, 'weights/default'));

  beforeAll(async () => {
    if (!run) return;
    // The default weights are stored in f16, so the f16 export holds them exactly (half the bytes).
    await writeTfjsGraphModel(path.join(dir, 'model'), weights, {
      part: 'autoencoder',
      dtype: 'f16',
      writeFile: (f, d) => fs.writeFileSync(f, d),
    });
    await esbuild.build({
      stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile: path.join(dir, 'js', 'page.js'),
      logLevel: 'warning',
    });
    server = await serve({ '/model/': path.join(dir, 'model'), '/js/': path.join(dir, 'js') }, { '/': PAGE });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('tf.loadGraphModel runs it on WebGPU and reproduces our logits and embedding within 1e-4', async (ctx) => {
    if (!run) {
      console.warn(`tfjs page test skipped: ${CHROMIUM} or ${NOTE} is missing (apt-get install chromium; ../shared)`);
      ctx.skip();
    }
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/`);
    await page.waitForFunction('window.ready === true', { timeout: 60_000 });
    const audio = readWav16k(NOTE).slice(FROM, FROM + T);
    const got = (await page.evaluate(
      `window.runExported(${JSON.stringify(Buffer.from(audio.buffer).toString('base64'))}, 60)`,
    )) as { backend: string; logitsShape: number[]; embeddingShape: number[]; logits: string; embedding: string };
    expect(errors).toEqual([]);
    expect(got.backend).toBe('webgpu');
    expect(got.logitsShape).toEqual([1, T, 256]);
    expect(got.embeddingShape).toEqual([1, T / 512, 16]);

    const engine = await testEngine();
    const model = await modelFromWeights(engine, weights);
    const emb = await model.encode(audio);
    const logits = await model.teacherForcedLogits(audio, emb, { pitch: 60 });
    model.dispose();
    expect(scaledError(floats(got.embedding), emb.data)).toBeLessThan(1e-4);
    expect(scaledError(floats(got.logits), logits.data)).toBeLessThan(1e-4);
    await page.close();
  }, 180_000);
});
