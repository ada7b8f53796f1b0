// The browser demo end to end (`npm run demo:web`, demo/): tools/demo-web.mjs serves it, headless
// Chromium (WebGPU on SwiftShader) loads the default model, reconstructs a quarter second of the
// bundled guitar note with playback through the AudioWorklet, and the test checks what the page
// reports against what it computes itself: the audio (non-silent, as long as asked, the same in
// the download), the player's figures, the f0 against the original's; docs/demo.png is the
// screenshot of the passing run. A browser without WebGPU gets the panel that says what to enable.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamPlayerStats } from '../src/browser/stream-player.js';
import { f0ErrorCents, medianF0, yinF0 } from '../src/dsp/f0.js';
import { decodeWav, readWav16k } from '../src/formats/wav.js';
import { CHROMIUM, chromiumAvailable, launchChromium } from './browser/chromium.js';

const ROOT = path.resolve(__dirname, '..');
const NOTE = 'guitar_acoustic_010-060-127';
/** 0.25 s (8 frames): on 2 cores, SwiftShader encodes and generates it in about 30 s. */
const LENGTH = '0.25';
const SAMPLES = 8 * 512;
/**
 * The committed screenshot (shown in the README) is replaced only on request
 * (`UPDATE_SCREENSHOTS=1 npx vitest run test/demo.test.ts`) or where it is missing, so a test run
 * leaves the working tree clean; otherwise the passing run's screenshot goes to the temp folder.
 */
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOTS === '1' || !fs.existsSync(path.join(ROOT, 'docs', 'demo.png'))
    ? path.join(ROOT, 'docs', 'demo.png')
    : path.join(os.tmpdir(), 'nsynth-demo.png');
/** Playback starts when this much is buffered, or at the end (demo/main.ts). */
const PREBUFFER_SECONDS = 0.5;

const built = ['dist/demo/index.html', 'dist/demo/demo.js', 'dist/src/util/static-server.js'].every((f) =>
  fs.existsSync(path.join(ROOT, f)),
);
const run = chromiumAvailable() && built;

/** The player's figures, as the page exposes them on `window.demo`. */
type PlayerStats = StreamPlayerStats;

interface PageResult {
  status: string;
  message: string;
  adapter: string;
  model: string;
  note: string;
  progress: { done: number; total: number };
  original: number[];
  result: {
    kind: string;
    pitch: number | null;
    samples: number[];
    totalSamples: number;
    generatedSamples: number;
    elapsedSeconds: number;
    generationSeconds: number;
    samplesPerSecond: number;
    player: PlayerStats;
    f0Hz: number;
    originalF0Hz: number;
    f0ErrorCents: number | null;
  };
  shown: { underruns: string; played: string; progress: number; rtf: string; facts: string };
  download: { name: string; bytes: number[] };
}

/** Starts tools/demo-web.mjs on a free port and resolves with the URL it prints. */
function startDemoServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'tools/demo-web.mjs'), '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const fail = (why: string) => reject(new Error(`demo-web: ${why}\n${out}`));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('exit', (code) => fail(`exited with ${code} before printing its URL`));
    setTimeout(() => fail('printed no URL in 20 s'), 20_000);
  });
}

/** The default model's validation figures say whether its reconstructions keep pitch (most notes within 50 cents). */
function modelKeepsPitch(): { keeps: boolean; why: string } {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'weights/default/manifest.json'), 'utf8'));
  const v = manifest.meta?.validation?.default as { clearF0?: number; within50Cents?: number } | undefined;
  if (!v?.clearF0 || v.within50Cents === undefined)
    return { keeps: false, why: 'weights/default/manifest.json records no validation f0 figures' };
  // within50Cents is the fraction of the notes with a clear f0 (as `nsynth eval` reports it).
  return {
    keeps: v.within50Cents >= 0.5,
    why: `weights/default/manifest.json: ${Math.round(v.within50Cents * v.clearF0)} of ${v.clearF0} validation notes within 50 cents`,
  };
}

describe('browser demo (npm run demo:web) in headless Chromium', () => {
  let browser: Browser;
  let server: { url: string; child: ChildProcess } | undefined;

  beforeAll(async () => {
    if (!run) return;
    server = await startDemoServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.child.kill();
  });

  function skipUnlessRunnable(ctx: { skip: () => void }): void {
    if (run) return;
    console.warn(
      `demo test skipped: ${CHROMIUM} or the built demo (dist/demo/, dist/src/util/static-server.js) is missing ` +
        '(apt-get install chromium; npm run build)',
    );
    ctx.skip();
  }

  async function openDemo(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(server!.url);
    return { page, errors };
  }

  it('reconstructs a short note with live playback, and its numbers hold up', async (ctx) => {
    skipUnlessRunnable(ctx);
    const started = Date.now();
    const { page, errors } = await openDemo();
    await page.waitForFunction("window.demo && ['ready', 'error', 'unsupported'].includes(window.demo.status)", {
      timeout: 60_000,
    });
    const ready = (await page.evaluate('({ status: demo.status, message: demo.message, notes: demo.notes })')) as {
      status: string;
      message: string;
      notes: string[];
    };
    expect(ready.status, ready.message).toBe('ready');
    expect(ready.notes).toContain(NOTE);

    await page.select('#note', NOTE);
    await page.select('#length', LENGTH);
    await page.click('#reconstruct');
    await page.waitForFunction("['done', 'error'].includes(window.demo.status)", { timeout: 150_000, polling: 500 });
    const got = (await page.evaluate(`(async () => {
      const d = window.demo;
      const link = document.querySelector('#download');
      const bytes = new Uint8Array(await (await fetch(link.href)).arrayBuffer());
      return {
        status: d.status, message: d.message, adapter: d.adapter, model: d.model, note: d.note, progress: d.progress,
        original: Array.from(d.original),
        result: d.result && { ...d.result, samples: Array.from(d.result.samples) },
        shown: {
          underruns: document.querySelector('#stat-underruns').textContent,
          played: document.querySelector('#stat-played').textContent,
          progress: document.querySelector('#progress').value,
          rtf: document.querySelector('#stat-rtf').textContent,
          facts: document.querySelector('#model-facts').textContent,
        },
        download: { name: link.download, bytes: Array.from(bytes) },
      };
    })()`)) as PageResult;
    expect(got.status, got.message).toBe('done');
    expect(errors).toEqual([]);
    expect(got.adapter).toMatch(/\S/);
    expect(got.model).toBe('h32_pitch');
    expect(got.note).toBe(NOTE);

    // The original the page compares with: the WAV's first 8 frames, decoded by the browser.
    const wav = readWav16k(path.join(ROOT, 'examples/notes', `${NOTE}.wav`));
    const original = wav.subarray(0, SAMPLES);
    expect(got.original.length).toBe(SAMPLES);
    expect(Math.max(...got.original.map((v, i) => Math.abs(v - original[i])))).toBeLessThan(1e-4);

    // The audio: as long as asked, finite, and not silent.
    const r = got.result;
    const audio = Float32Array.from(r.samples);
    expect(r.kind).toBe('reconstruction');
    expect(r.pitch).toBe(60); // examples.json
    expect([audio.length, r.totalSamples, r.generatedSamples, got.progress.done, got.progress.total]).toEqual(
      Array(5).fill(SAMPLES),
    );
    expect(audio.every(Number.isFinite)).toBe(true);
    const rms = Math.sqrt(audio.reduce((s, v) => s + v * v, 0) / audio.length);
    const peak = audio.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(rms).toBeGreaterThan(1e-3);
    expect(peak).toBeGreaterThan(1e-2);
    expect(new Set(r.samples).size).toBeGreaterThan(16);

    // The player: everything generated went through the worklet and played; the figures agree.
    const p = r.player;
    const seconds = SAMPLES / 16000;
    expect(p.drained).toBe(true);
    expect(p.started).toBe(true);
    expect(p.pushedSeconds).toBeCloseTo(seconds, 9);
    expect(p.playedSeconds).toBeCloseTo(seconds, 9);
    expect(p.bufferedSeconds).toBe(0);
    expect(Number.isInteger(p.underruns) && p.underruns >= 0).toBe(true);
    // Shorter than the prebuffer: playback starts only at the end, so it cannot starve.
    if (seconds < PREBUFFER_SECONDS) expect([p.underruns, p.starvedSeconds]).toEqual([0, 0]);
    expect(p.realtimeFactor).toBeGreaterThan(0);
    expect(Math.abs(p.realtimeFactor - seconds / r.elapsedSeconds) / p.realtimeFactor).toBeLessThan(0.02);
    // The generator's own speed is timed from its first step, inside the page's span (which also holds
    // the player's start and the stream's setup): its seconds fit within the page's, and the setup
    // between them is bounded. How large a share the setup takes depends on the machine's load (CI
    // once saw a 0.25 s note take twice its generation time), so no ratio between them is asserted.
    const generatorSeconds = r.generatedSamples / r.samplesPerSecond;
    expect(generatorSeconds).toBeGreaterThan(0);
    expect(generatorSeconds).toBeLessThanOrEqual(r.elapsedSeconds * 1.02 + 0.05);
    expect(r.elapsedSeconds - generatorSeconds).toBeLessThan(60);
    // What the page shows as the real-time factor is the generator's, on the same clock as its speed
    // (the one-off kernel timing on first use is not generation).
    expect(Math.abs(r.generationSeconds - generatorSeconds) / generatorSeconds).toBeLessThan(0.02);
    expect(got.shown.rtf).toBe(`${(r.samplesPerSecond / 16000).toFixed(3)}× real time`);
    expect(got.shown.underruns).toBe(String(p.underruns));
    expect(got.shown.played).toBe(`${p.playedSeconds.toFixed(3)} s`);
    expect(got.shown.progress).toBe(1);
    // The manifest's within50Cents is a fraction: the header shows a count of notes and a percentage.
    expect(got.shown.facts).toMatch(/keeps pitch on \d+ of \d+ validation notes \(\d+%\)/);

    // The download: a 16-bit WAV of the same audio.
    expect(got.download.name).toMatch(/\.wav$/);
    const downloaded = decodeWav(Uint8Array.from(got.download.bytes), 'the download');
    expect(downloaded.sampleRate).toBe(16000);
    expect(downloaded.samples.length).toBe(SAMPLES);
    expect(Math.max(...downloaded.samples.map((v, i) => Math.abs(v - audio[i])))).toBeLessThan(1.5 / 32767);

    // Pitch: the page's f0 figures are the library's, computed here again.
    expect(r.f0Hz).toBeCloseTo(medianF0(yinF0(audio)), 3);
    expect(r.originalF0Hz).toBeCloseTo(medianF0(yinF0(original)), 3);
    expect(r.originalF0Hz).toBeGreaterThan(0); // the guitar's C4 has a clear f0
    const error = f0ErrorCents(audio, original);
    if (error === null) expect(r.f0ErrorCents).toBeNull();
    else expect(r.f0ErrorCents).toBeCloseTo(error, 3);
    const pitch = modelKeepsPitch();
    console.log(
      `demo: ${got.adapter}, ${seconds} s reconstructed in ${r.elapsedSeconds.toFixed(1)} s ` +
        `(generation ${generatorSeconds.toFixed(1)} s of it, ${(r.samplesPerSecond / 16000).toFixed(4)}x real time; ` +
        `${p.underruns} underruns); f0 ${r.f0Hz.toFixed(1)} Hz against ` +
        `${r.originalF0Hz.toFixed(1)} Hz: ${error === null ? 'no clear f0 in the reconstruction' : `${error.toFixed(1)} cents`}`,
    );
    if (pitch.keeps) {
      expect(error, `${pitch.why}, yet the reconstruction has no clear f0`).not.toBeNull();
      expect(Math.abs(error!), pitch.why).toBeLessThanOrEqual(50);
    } else {
      console.warn(
        `demo: pitch assertion skipped: the default model does not keep pitch yet (${pitch.why}); ` +
          'every other check ran',
      );
    }

    // Only a passing run writes the screenshot (see SCREENSHOT).
    const png = await page.screenshot({ fullPage: true, type: 'png' });
    fs.writeFileSync(SCREENSHOT, png);

    // One run at a time: once Reconstruct is clicked every input that would change the run is
    // locked until it ends, and Stop reaches the run from the click on. The click, the look at the
    // controls and Stop happen in one task of the page, so no timing decides what they see.
    const controls = "['note', 'note-b', 'file', 'length', 'seed', 'pitch', 'mix', 'reconstruct', 'generate-mix']";
    await page.select('#note', 'brass_acoustic_006-060-100');
    const during = (await page.evaluate(`(() => {
      document.getElementById('reconstruct').click();
      const seen = {
        status: demo.status,
        locked: ${controls}.every((id) => document.getElementById(id).disabled),
        stop: !document.getElementById('stop').disabled,
      };
      document.getElementById('stop').click();
      return seen;
    })()`)) as { status: string; locked: boolean; stop: boolean };
    expect(during).toEqual({ status: 'starting', locked: true, stop: true });
    await page.waitForFunction("window.demo.status !== 'starting'", { timeout: 60_000, polling: 100 });
    // Stop does not wait for the note change being shown (its fetch); that finishes on its own.
    await page.waitForFunction("window.demo.note === 'brass_acoustic_006-060-100'", { timeout: 60_000, polling: 100 });
    const after = (await page.evaluate(`({
      status: demo.status, message: demo.message, result: demo.result,
      unlocked: ${controls}.every((id) => !document.getElementById(id).disabled),
      stop: document.getElementById('stop').disabled,
    })`)) as { status: string; message: string; result: unknown; unlocked: boolean; stop: boolean };
    expect(after).toEqual({
      status: 'ready',
      message: 'Stopped.',
      result: null, // the guitar's result went with the note change; nothing was generated since
      unlocked: true,
      stop: true,
    });

    // An empty pitch is not MIDI 0: the page asks for one and starts nothing.
    await page.evaluate("document.getElementById('pitch').value = ''");
    await page.click('#reconstruct');
    await page.waitForFunction("window.demo.status === 'error'", { timeout: 10_000 });
    expect(await page.evaluate('demo.error')).toBe('Set the pitch (MIDI 0-127): the model is conditioned on it');
    expect(errors).toEqual([]);
    await page.close();
    console.log(`demo: wrote ${SCREENSHOT}; the walk-through took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  it('tells a browser without WebGPU what to enable instead of showing a blank page', async (ctx) => {
    skipUnlessRunnable(ctx);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.evaluateOnNewDocument(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
    });
    await page.goto(server!.url);
    await page.waitForFunction("window.demo && window.demo.status === 'unsupported'", { timeout: 30_000 });
    const shown = (await page.evaluate(`({
      panel: !document.querySelector('#unsupported').hidden,
      app: !document.querySelector('#app').hidden,
      text: document.querySelector('#unsupported-reason').textContent,
    })`)) as { panel: boolean; app: boolean; text: string };
    expect(errors).toEqual([]);
    expect(shown.panel).toBe(true);
    expect(shown.app).toBe(false);
    expect(shown.text).toMatch(/Chrome or Edge 113/);
    expect(shown.text).toMatch(/chrome:\/\/flags\/#enable-unsafe-webgpu/);
    expect(shown.text).toMatch(/Safari 26/);
    expect(shown.text).not.toMatch(/apt-get|Debian|lavapipe/);
    await page.close();
  });
});
