// The browser demo (`npm run demo:web`): the default model on WebGPU in the page. Pick a bundled
// NSynth note or a WAV of your own, see its rainbowgram, reconstruct it (encode, then generate it
// back with the generation streamed to the speakers through an AudioWorklet as chunks arrive), or
// mix two notes' embeddings; download the result. Plain DOM, no framework. The state a test needs
// is on `window.demo` (see DemoState), so tests read numbers rather than scrape text.
import {
  createEngine,
  encoderReach,
  encodeWav,
  f0ErrorCents,
  interpolateEmbeddings,
  loadModel,
  medianF0,
  parameterCount,
  rainbowgram,
  StreamPlayer,
  unsupportedReason,
  yinF0,
  type Engine,
  type HostTensor,
  type NSynthModel,
  type StreamPlayerStats,
} from '../src/browser/index.js';

const SAMPLE_RATE = 16000;
const MODEL_URL = 'weights/default/';
const NOTES_URL = 'examples/notes/';
/** Playback waits for this much audio before it starts (and after an underrun). */
const PREBUFFER_SECONDS = 0.5;

interface Note {
  id: string;
  label: string;
  audio: Float32Array;
  /** MIDI pitch, and where it came from (null: none found). */
  pitch: number | null;
  pitchFrom: string;
}

interface Result {
  kind: 'reconstruction' | 'mix';
  label: string;
  samples: Float32Array;
  pitch: number | null;
  seed: number;
  mix: number | null;
  /** Samples the embedding asks for, and those generated. */
  totalSamples: number;
  generatedSamples: number;
  /** Wall time from the start of generation to its last chunk (set-up and, on first use, the kernels' timing included). */
  elapsedSeconds: number;
  /** The generator's own time, from its first step to its last (what samplesPerSecond and the real-time factor measure). */
  generationSeconds: number;
  samplesPerSecond: number;
  /** The player's figures when playback finished (or was stopped). */
  player: StreamPlayerStats | null;
  /** Median f0 (Hz, 0 = no clear f0) of the result and of the original over the same length; their distance. */
  f0Hz: number;
  originalF0Hz: number;
  f0ErrorCents: number | null;
}

/** What the page is doing, for people (the status line) and for tests (window.demo). */
interface DemoState {
  status:
    | 'checking'
    | 'unsupported'
    | 'loading'
    | 'ready'
    | 'starting'
    | 'encoding'
    | 'generating'
    | 'playing'
    | 'done'
    | 'error';
  message: string;
  adapter: string | null;
  software: boolean;
  model: string | null;
  notes: string[];
  note: string | null;
  lengthSeconds: number;
  /** The original cut to the chosen length (what the result is compared with). */
  original: Float32Array | null;
  progress: { done: number; total: number };
  player: StreamPlayerStats | null;
  result: Result | null;
  error: string | null;
}

const state: DemoState = {
  status: 'checking',
  message: '',
  adapter: null,
  software: false,
  model: null,
  notes: [],
  note: null,
  lengthSeconds: 0.25,
  original: null,
  progress: { done: 0, total: 0 },
  player: null,
  result: null,
  error: null,
};
(window as unknown as { demo: DemoState }).demo = state;

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

const ui = {
  adapter: $('adapter'),
  modelFacts: $('model-facts'),
  app: $('app'),
  unsupported: $('unsupported'),
  unsupportedReason: $('unsupported-reason'),
  failure: $('failure'),
  failureMessage: $('failure-message'),
  note: $<HTMLSelectElement>('note'),
  noteB: $<HTMLSelectElement>('note-b'),
  file: $<HTMLInputElement>('file'),
  pitch: $<HTMLInputElement>('pitch'),
  pitchFrom: $('pitch-from'),
  length: $<HTMLSelectElement>('length'),
  seed: $<HTMLInputElement>('seed'),
  reconstruct: $<HTMLButtonElement>('reconstruct'),
  stop: $<HTMLButtonElement>('stop'),
  mix: $<HTMLInputElement>('mix'),
  mixValue: $<HTMLOutputElement>('mix-value'),
  generateMix: $<HTMLButtonElement>('generate-mix'),
  progress: $<HTMLProgressElement>('progress'),
  status: $('status'),
  statGenerated: $('stat-generated'),
  statSpeed: $('stat-speed'),
  statRtf: $('stat-rtf'),
  statPlayed: $('stat-played'),
  statUnderruns: $('stat-underruns'),
  modelNote: $('model-note'),
  originalCaption: $('original-caption'),
  originalDetail: $('original-detail'),
  originalCanvas: $<HTMLCanvasElement>('rainbowgram-original'),
  originalAudio: $<HTMLAudioElement>('audio-original'),
  resultTitle: $('result-title'),
  resultCaption: $('result-caption'),
  resultDetail: $('result-detail'),
  resultCanvas: $<HTMLCanvasElement>('rainbowgram-result'),
  resultAudio: $<HTMLAudioElement>('audio-result'),
  download: $<HTMLAnchorElement>('download'),
};

/**
 * One run at a time: while a run is going (from the click through encoding, generation and
 * playback) or a file is loading, every input that would change what the run uses is locked, so a
 * second run cannot start beside the first and Stop always reaches the one that is going.
 */
function setStatus(status: DemoState['status'], message: string): void {
  state.status = status;
  state.message = message;
  ui.status.textContent = message;
  const locked = running !== null || status === 'loading';
  for (const input of [ui.note, ui.noteB, ui.file, ui.pitch, ui.length, ui.seed, ui.mix]) input.disabled = locked;
  if (!model?.config.pitchConditioning) ui.pitch.disabled = true;
  ui.reconstruct.disabled = locked;
  ui.generateMix.disabled = locked || ui.noteB.options.length === 0;
  ui.stop.disabled = running === null || running.signal.aborted;
}

function fail(e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  state.error = message;
  ui.failureMessage.textContent = message;
  ui.failure.hidden = false;
  $('boot').hidden = true;
  setStatus('error', `Error: ${message}`);
  console.error(e);
}

// ---------------------------------------------------------------------------------------------
// Audio in: bundled notes and WAVs of the visitor's, as 16 kHz mono

/** Any file the browser can decode, at 16 kHz (an OfflineAudioContext at that rate resamples it), channels averaged. */
async function decodeTo16k(bytes: ArrayBuffer): Promise<Float32Array> {
  const decoder = new OfflineAudioContext(1, 1, SAMPLE_RATE);
  const buffer = await decoder.decodeAudioData(bytes);
  const mono = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const ch = buffer.getChannelData(c);
    for (let i = 0; i < mono.length; i++) mono[i] += ch[i] / buffer.numberOfChannels;
  }
  return mono;
}

/** An NSynth file name carries the pitch: `guitar_acoustic_010-060-127` is MIDI 60 at velocity 127. */
function pitchFromName(name: string): number | null {
  const m = /-(\d{3})-(\d{3})(?:\.\w+)?$/.exec(name);
  const pitch = m ? Number(m[1]) : Number.NaN;
  return pitch >= 0 && pitch <= 127 ? pitch : null;
}

function pitchFromF0(audio: Float32Array): { pitch: number; hz: number } | null {
  const hz = medianF0(yinF0(audio.subarray(0, Math.min(audio.length, 2 * SAMPLE_RATE))));
  return hz > 0 ? { pitch: Math.round(69 + 12 * Math.log2(hz / 440)), hz } : null;
}

const notes = new Map<string, Note>();
let examples: Record<string, { pitch?: number; instrument_str?: string; velocity?: number }> = {};

async function bundledNote(id: string): Promise<Note> {
  const cached = notes.get(id);
  if (cached) return cached;
  const response = await fetch(`${NOTES_URL}${encodeURIComponent(id)}.wav`);
  if (!response.ok) throw new Error(`${NOTES_URL}${id}.wav: HTTP ${response.status}`);
  const audio = await decodeTo16k(await response.arrayBuffer());
  const meta = examples[id]?.pitch;
  const note: Note = {
    id,
    label: id,
    audio,
    pitch: Number.isInteger(meta) ? (meta as number) : pitchFromName(id),
    pitchFrom: Number.isInteger(meta) ? 'examples.json' : 'the file name',
  };
  notes.set(id, note);
  return note;
}

async function fileNote(file: File): Promise<Note> {
  let audio: Float32Array;
  try {
    audio = await decodeTo16k(await file.arrayBuffer());
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(
      `${file.name}: not audio this browser can decode (${why}); use a WAV, or any format the browser plays. ` +
        'The note chosen before is kept.',
    );
  }
  if (audio.length < 512) throw new Error(`${file.name}: ${audio.length} samples at 16 kHz is shorter than one frame`);
  let pitch = pitchFromName(file.name);
  let pitchFrom = 'the file name';
  if (pitch === null) {
    const est = pitchFromF0(audio);
    pitch = est?.pitch ?? null;
    pitchFrom = est ? `its f0 (${est.hz.toFixed(1)} Hz)` : 'nowhere: no clear f0, set it';
  }
  const id = `file:${file.name}`;
  const note: Note = { id, label: `${file.name} (your file)`, audio, pitch, pitchFrom };
  notes.set(id, note);
  return note;
}

// ---------------------------------------------------------------------------------------------
// Pictures and files

function drawRainbowgram(canvas: HTMLCanvasElement, audio: Float32Array): void {
  const r = rainbowgram(audio);
  canvas.width = r.width;
  canvas.height = r.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.putImageData(new ImageData(new Uint8ClampedArray(r.rgba), r.width, r.height), 0, 0);
}

function wavUrl(samples: Float32Array): string {
  const bytes = encodeWav(samples, SAMPLE_RATE, '16');
  return URL.createObjectURL(new Blob([bytes.buffer as ArrayBuffer], { type: 'audio/wav' }));
}

function replaceUrl(el: HTMLAudioElement | HTMLAnchorElement, url: string): void {
  const old = el instanceof HTMLAudioElement ? el.src : el.href;
  if (old.startsWith('blob:')) URL.revokeObjectURL(old);
  if (el instanceof HTMLAudioElement) el.src = url;
  else el.href = url;
}

const hz = (f: number) => (f > 0 ? `${f.toFixed(1)} Hz` : 'no clear f0');
/** Lengths are whole frames of 512 samples (0.25 s asks for 0.256 s), so short ones show three decimals. */
const seconds = (s: number) => `${s < 10 ? s.toFixed(3) : s.toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------
// The model

let engine: Engine;
let model: NSynthModel;
let audioContext: AudioContext | null = null;
let running: AbortController | null = null;
/** Per note: an embedding whose first `exactFrames` frames are those of the whole note. */
const embeddings = new Map<string, { exactFrames: number; embedding: HostTensor }>();

function lengthFrames(): number {
  return Math.max(1, Math.round((state.lengthSeconds * SAMPLE_RATE) / model.config.hop));
}

/**
 * The note's embedding over its first `frames` frames. Only as much audio is encoded as those
 * frames see (the encoder reaches encoderReach samples either side), so a short length costs
 * little on a slow adapter, and the frames are exactly those of the whole note.
 */
async function embeddingOf(note: Note, frames: number): Promise<HostTensor> {
  const hop = model.config.hop;
  const noteFrames = Math.floor(note.audio.length / hop);
  const want = Math.min(frames, noteFrames);
  let cached = embeddings.get(note.id);
  if (!cached || cached.exactFrames < want) {
    const context = Math.ceil(encoderReach(model.config) / hop);
    const encodeFrames = Math.min(noteFrames, want + context);
    const embedding = await model.encode(note.audio.subarray(0, encodeFrames * hop));
    cached = { exactFrames: encodeFrames === noteFrames ? noteFrames : encodeFrames - context, embedding };
    embeddings.set(note.id, cached);
  }
  const channels = cached.embedding.shape[1];
  return { data: cached.embedding.data.slice(0, want * channels), shape: [want, channels] };
}

function originalCut(note: Note, frames: number): Float32Array {
  return note.audio.subarray(
    0,
    Math.min(note.audio.length - (note.audio.length % model.config.hop), frames * model.config.hop),
  );
}

function chosenPitch(): number | undefined {
  if (!model.config.pitchConditioning) return undefined;
  const text = ui.pitch.value.trim();
  const p = Number(text);
  if (text === '' || !Number.isInteger(p) || p < 0 || p > 127)
    throw new Error('Set the pitch (MIDI 0-127): the model is conditioned on it');
  return p;
}

function chosenSeed(): number {
  const text = ui.seed.value.trim();
  const seed = Number(text);
  if (text === '' || !Number.isSafeInteger(seed) || seed < 0)
    throw new Error('Set the seed: a whole number, 0 or more');
  return seed;
}

function showStats(generated: number, total: number, samplesPerSecond: number, player: StreamPlayerStats | null): void {
  state.progress = { done: generated, total };
  ui.progress.value = total > 0 ? generated / total : 0;
  ui.statGenerated.textContent = `${seconds(generated / SAMPLE_RATE)} of ${seconds(total / SAMPLE_RATE)}`;
  ui.statSpeed.textContent =
    samplesPerSecond > 0 ? `${Math.round(samplesPerSecond).toLocaleString('en')} samples/s` : '–';
  // The generator's speed against real time: the same clock as the speed beside it (the kernels'
  // one-off timing on first use is not generation, and the status line reports it apart).
  ui.statRtf.textContent = samplesPerSecond > 0 ? `${realtimeFactor(samplesPerSecond)}× real time` : '–';
  if (player) {
    state.player = player;
    ui.statPlayed.textContent = `${seconds(player.playedSeconds)}${player.started ? '' : ' (buffering)'}`;
    ui.statUnderruns.textContent = String(player.underruns);
  }
}

const realtimeFactor = (samplesPerSecond: number) => (samplesPerSecond / SAMPLE_RATE).toFixed(3);

/**
 * Generates from `embedding`, playing it as it comes; then shows the result beside the original.
 * `abort` is the run's (made at the click, so Stop reaches it while the note is still encoding).
 */
async function generate(
  embedding: HostTensor,
  abort: AbortController,
  o: { kind: Result['kind']; label: string; pitch?: number; seed: number; mix: number | null; original: Float32Array },
): Promise<void> {
  const context = audioContextForClick();
  // Resumed in the click (audioContextForClick); a browser that refuses it leaves the promise
  // pending, so Stop must still be able to end the wait.
  if (context.state === 'suspended') {
    setStatus('starting', 'Waiting for the browser to allow audio (Stop ends the wait)…');
    await unlessStopped(context.resume(), abort);
  }
  if (abort.signal.aborted) {
    setStatus('ready', 'Stopped.');
    return;
  }
  const seed = o.seed;
  const total = embedding.shape[0] * model.config.hop;
  setStatus('generating', `Generating ${o.label}…`);
  let samplesPerSecond = 0;
  let generationSeconds = 0;
  const player = await StreamPlayer.create({
    context,
    sampleRate: SAMPLE_RATE,
    prebufferSeconds: PREBUFFER_SECONDS,
    onState: (s) => showStats(state.progress.done, total, samplesPerSecond, s),
  });
  // Stop silences at once, whether generation is running or only playback is left.
  abort.signal.addEventListener('abort', () => void player.close());
  if (abort.signal.aborted) {
    // Stopped while the player started: no kernels timed, nothing generated.
    await player.close();
    setStatus('ready', 'Stopped.');
    return;
  }
  const started = performance.now();
  const samples = new Float32Array(total);
  let generated = 0;
  let lastChunkAt = started;
  let tuning = false; // the status line says the kernels are being chosen
  let tunedThisRun = false;
  try {
    showStats(0, total, 0, player.stats());
    const stream = model.stream(embedding, {
      pitch: o.pitch,
      seed,
      signal: abort.signal,
      // Small chunks on a software adapter keep the progress bar and the speakers moving.
      chunkSize: state.software ? 1024 : 4096,
      onProgress: (p) => {
        samplesPerSecond = p.samplesPerSecond;
        generationSeconds = p.elapsedSeconds;
      },
      // First use on this adapter: the kernels are timed (seconds) before the first chunk; say so.
      onTuning: (line) => {
        tuning = true;
        tunedThisRun = true;
        setStatus('generating', `Choosing the fastest kernels for this adapter (once): ${line}`);
      },
    });
    for await (const chunk of stream) {
      if (tuning) setStatus('generating', `Generating ${o.label}…`);
      tuning = false;
      samples.set(chunk.audio[0], chunk.start);
      generated = chunk.end;
      lastChunkAt = performance.now();
      await player.push(chunk.audio[0]);
      showStats(generated, total, samplesPerSecond, player.stats());
    }
    player.end();
    const result: Result = {
      kind: o.kind,
      label: o.label,
      samples,
      pitch: o.pitch ?? null,
      seed,
      mix: o.mix,
      totalSamples: total,
      generatedSamples: generated,
      elapsedSeconds: (lastChunkAt - started) / 1000,
      generationSeconds,
      samplesPerSecond,
      player: null,
      f0Hz: medianF0(yinF0(samples)),
      originalF0Hz: medianF0(yinF0(o.original)),
      f0ErrorCents: f0ErrorCents(samples, o.original),
    };
    showResult(result);
    setStatus('playing', `Generated ${o.label}; playing out what is buffered…`);
    result.player = await player.done();
    showStats(generated, total, samplesPerSecond, result.player);
    state.result = result;
    const setup = result.elapsedSeconds - generationSeconds;
    const took =
      `${seconds(generated / SAMPLE_RATE)} generated in ${seconds(generationSeconds)} (${realtimeFactor(samplesPerSecond)}× real time)` +
      (setup >= 1
        ? `, after ${seconds(setup)} of set-up${tunedThisRun ? ' (choosing the fastest kernels, once per page)' : ''}`
        : '');
    if (abort.signal.aborted) setStatus('ready', `Stopped playback: ${o.label}, ${took}.`);
    else setStatus('done', `Done: ${o.label}, ${took}.`);
  } catch (e) {
    if (abort.signal.aborted) setStatus('ready', 'Stopped.');
    else throw e;
  } finally {
    await player.close();
  }
}

/** The result panel back to empty: what it showed was made from another note or length. */
function clearResult(): void {
  state.result = null;
  ui.resultTitle.textContent = 'Reconstruction';
  ui.resultCaption.textContent = 'not generated yet';
  ui.resultCaption.title = '';
  ui.resultDetail.textContent = '';
  ui.resultCanvas.width = 1;
  for (const el of [ui.resultAudio, ui.download]) replaceUrl(el, '');
  ui.download.hidden = true;
  showStats(0, 0, 0, null);
  state.player = null;
  for (const el of [ui.statRtf, ui.statPlayed, ui.statUnderruns]) el.textContent = '–';
}

function showResult(r: Result): void {
  ui.resultTitle.textContent = r.kind === 'mix' ? 'Mix' : 'Reconstruction';
  const pitch = r.pitch === null ? '' : `, conditioned on MIDI ${r.pitch}`;
  const against = r.kind === 'mix' ? "the nearer note's" : "the original's";
  const error =
    r.f0ErrorCents === null
      ? `f0 ${hz(r.f0Hz)} (${against} ${hz(r.originalF0Hz)}): no pitch to compare`
      : `f0 ${hz(r.f0Hz)}, ${r.f0ErrorCents > 0 ? '+' : ''}${r.f0ErrorCents.toFixed(0)} cents from ${against} ${hz(r.originalF0Hz)}`;
  ui.resultCaption.textContent = r.label;
  ui.resultCaption.title = r.label;
  ui.resultDetail.textContent = `${seconds(r.samples.length / SAMPLE_RATE)}${pitch}, seed ${r.seed}: ${error}.`;
  drawRainbowgram(ui.resultCanvas, r.samples);
  replaceUrl(ui.resultAudio, wavUrl(r.samples));
  replaceUrl(ui.download, wavUrl(r.samples));
  ui.download.download = `${r.label.replace(/[^\w.-]+/g, '_')}.wav`;
  ui.download.hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Controls

async function currentNote(select: HTMLSelectElement = ui.note): Promise<Note> {
  const id = select.value;
  return notes.get(id) ?? bundledNote(id);
}

/** Shows the chosen note over the chosen length, and its pitch. */
/** Counts note and length changes: a change overtaken by a later one (a slow fetch) shows nothing. */
let originalSeq = 0;

async function showOriginal(): Promise<void> {
  const seq = ++originalSeq;
  const note = await currentNote();
  if (seq !== originalSeq) return;
  state.note = note.id;
  state.lengthSeconds = Number(ui.length.value);
  const cut = originalCut(note, lengthFrames());
  state.original = cut;
  if (model.config.pitchConditioning) {
    ui.pitch.value = note.pitch === null ? '' : String(note.pitch);
    ui.pitchFrom.textContent = `from ${note.pitchFrom}`;
  }
  ui.originalCaption.textContent = note.label;
  ui.originalCaption.title = note.label;
  const frames = cut.length / model.config.hop;
  ui.originalDetail.textContent = `The first ${seconds(cut.length / SAMPLE_RATE)} (${frames} frames of 32 ms): f0 ${hz(medianF0(yinF0(cut)))}.`;
  clearResult();
  drawRainbowgram(ui.originalCanvas, cut);
  replaceUrl(ui.originalAudio, wavUrl(cut));
}

function addOption(select: HTMLSelectElement, value: string, label: string): void {
  const option = document.createElement('option');
  option.value = value;
  option.textContent = label;
  select.append(option);
}

/**
 * The page's audio context, made (and resumed) synchronously in the click that starts a run:
 * browsers let audio start only in a user gesture, and an await before it would leave the gesture.
 */
function audioContextForClick(): AudioContext {
  if (!audioContext) {
    try {
      audioContext = new AudioContext({ sampleRate: SAMPLE_RATE, latencyHint: 'playback' });
    } catch {
      audioContext = new AudioContext({ latencyHint: 'playback' }); // the worklet resamples
    }
  }
  if (audioContext.state === 'suspended') audioContext.resume().catch(() => undefined); // awaited in generate
  return audioContext;
}

const aborted = (signal: AbortSignal) =>
  signal.aborted
    ? Promise.resolve()
    : new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

/** `work`, unless Stop comes first: then null (what `work` settles to later is dropped). */
async function unlessStopped<T>(work: Promise<T>, abort: AbortController): Promise<T | null> {
  work.catch(() => undefined); // a failure after Stop is no one's business
  return Promise.race([work, aborted(abort.signal).then(() => null)]);
}

/** The last note or length change's showOriginal, which sets the pitch, the length and the original a run reads. */
let pendingOriginal: Promise<void> = Promise.resolve();

function showOriginalLater(): Promise<void> {
  pendingOriginal = showOriginal();
  return pendingOriginal;
}

/**
 * Runs `job` as the page's one run (see setStatus): Stop aborts its controller, made here at the
 * click so that it reaches the run while the note is still encoding. The controls lock at once;
 * a note or length change still being shown is waited for, so the run reads its pitch and length.
 */
async function exclusiveRun(job: (abort: AbortController) => Promise<void>): Promise<void> {
  if (running) return; // the controls are locked while a run goes; a stray event does nothing
  const abort = new AbortController();
  running = abort;
  try {
    audioContextForClick(); // in the click, before any await; inside the try, so a refusal unlocks
    setStatus('starting', 'Starting…');
    await unlessStopped(
      pendingOriginal.catch(() => undefined), // its failure was reported where it happened
      abort,
    );
    if (abort.signal.aborted) setStatus('ready', 'Stopped.');
    else await job(abort);
  } finally {
    running = null;
    setStatus(state.status, state.message); // unlock the controls
  }
}

/** A Stop pressed while the notes were fetched: nothing is encoded. */
function stoppedBefore(abort: AbortController): boolean {
  if (abort.signal.aborted) setStatus('ready', 'Stopped.');
  return abort.signal.aborted;
}

/** The encoder cannot be interrupted; a Stop pressed meanwhile ends the run when it returns. */
function stoppedWhileEncoding(abort: AbortController, what: string): boolean {
  if (abort.signal.aborted) setStatus('ready', `Stopped after encoding ${what}.`);
  return abort.signal.aborted;
}

async function reconstruct(abort: AbortController): Promise<void> {
  const note = await unlessStopped(currentNote(), abort);
  if (stoppedBefore(abort) || !note) return;
  const pitch = chosenPitch();
  const seed = chosenSeed();
  const frames = lengthFrames();
  setStatus('encoding', `Encoding ${note.label}…`);
  const embedding = await embeddingOf(note, frames);
  if (stoppedWhileEncoding(abort, note.label)) return;
  await generate(embedding, abort, {
    kind: 'reconstruction',
    label: `${note.id} reconstruction`,
    pitch,
    seed,
    mix: null,
    original: originalCut(note, frames),
  });
}

async function generateMix(abort: AbortController): Promise<void> {
  const both = await unlessStopped(Promise.all([currentNote(), currentNote(ui.noteB)]), abort);
  if (stoppedBefore(abort) || !both) return;
  const [a, b] = both;
  const mix = Number(ui.mix.value);
  // As `nsynth interpolate`: a pitch-conditioned model gets the nearer note's pitch (A's at 0.5).
  const pitch = model.config.pitchConditioning ? (mix <= 0.5 ? chosenPitch() : (b.pitch ?? chosenPitch())) : undefined;
  const seed = chosenSeed();
  const frames = lengthFrames();
  if (stoppedBefore(abort)) return;
  setStatus('encoding', `Encoding ${a.label} and ${b.label}…`);
  const z = interpolateEmbeddings(await embeddingOf(a, frames), await embeddingOf(b, frames), mix);
  if (stoppedWhileEncoding(abort, `${a.label} and ${b.label}`)) return;
  const label = `${a.id} + ${b.id} mix ${mix.toFixed(2)}`;
  await generate(z, abort, {
    kind: 'mix',
    label,
    pitch,
    seed,
    mix,
    original: originalCut(mix <= 0.5 ? a : b, z.shape[0]),
  });
}

function guarded(task: () => Promise<void>): () => void {
  return () => {
    ui.failure.hidden = true;
    task().catch(fail);
  };
}

function stop(): void {
  if (!running || running.signal.aborted) return;
  running.abort();
  setStatus(state.status, state.status === 'encoding' ? 'Stopping once the encoder returns…' : 'Stopping…');
}

/** A message on the status line for a few seconds, then the line as it was (a run's status is kept). */
/** The status line a brief message covers, kept across messages that follow each other. */
let coveredMessage: string | null = null;

function brieflySay(message: string): void {
  coveredMessage ??= state.message;
  setStatus(state.status, message);
  setTimeout(() => {
    if (state.message !== message) return; // something newer said since
    setStatus(state.status, coveredMessage ?? '');
    coveredMessage = null;
  }, 4000);
}

async function useFile(file: File): Promise<void> {
  // The file input is disabled meanwhile, but a drop is not.
  if (running || state.status === 'loading') {
    brieflySay(`${file.name} not loaded: ${running ? 'stop the current run' : 'wait for the note loading now'} first.`);
    return;
  }
  setStatus('loading', `Reading ${file.name}…`);
  let note: Note;
  try {
    note = await fileNote(file);
  } catch (e) {
    ui.file.value = ''; // the input would otherwise name the file that was not loaded
    throw e;
  }
  embeddings.delete(note.id);
  if (!Array.from(ui.note.options).some((o) => o.value === note.id)) {
    addOption(ui.note, note.id, note.label);
    addOption(ui.noteB, note.id, note.label);
  }
  ui.note.value = note.id;
  await showOriginalLater();
  setStatus('ready', `Loaded ${file.name} (${seconds(note.audio.length / SAMPLE_RATE)} at 16 kHz).`);
}

function wireControls(): void {
  ui.note.addEventListener('change', guarded(showOriginalLater));
  ui.length.addEventListener('change', guarded(showOriginalLater));
  ui.reconstruct.addEventListener(
    'click',
    guarded(() => exclusiveRun(reconstruct)),
  );
  ui.generateMix.addEventListener(
    'click',
    guarded(() => exclusiveRun(generateMix)),
  );
  ui.stop.addEventListener('click', stop);
  ui.mix.addEventListener('input', () => {
    ui.mixValue.value = Number(ui.mix.value).toFixed(2);
  });
  ui.file.addEventListener(
    'change',
    guarded(async () => {
      const file = ui.file.files?.[0];
      if (file) await useFile(file);
    }),
  );
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    const file = e.dataTransfer?.files[0];
    if (file) guarded(() => useFile(file))();
  });
}

// ---------------------------------------------------------------------------------------------
// Start

async function start(): Promise<void> {
  const why = await unsupportedReason();
  $('boot').hidden = true;
  if (why) {
    ui.unsupportedReason.textContent = why;
    ui.unsupported.hidden = false;
    ui.adapter.textContent = 'adapter: no WebGPU';
    state.status = 'unsupported';
    state.message = why;
    return;
  }
  ui.app.hidden = false;
  setStatus('loading', 'Loading the model…');
  engine = await createEngine();
  state.adapter = engine.adapter.name;
  state.software = engine.adapter.type === 'cpu';
  ui.adapter.textContent = `adapter: ${engine.adapter.name} ·`;
  const [loaded, manifest, list] = await Promise.all([
    loadModel(engine, MODEL_URL),
    fetch(`${MODEL_URL}manifest.json`).then((r) => r.json() as Promise<{ meta?: ManifestMeta }>),
    fetch(`${NOTES_URL}examples.json`).then((r) => {
      if (!r.ok) throw new Error(`${NOTES_URL}examples.json: HTTP ${r.status}`);
      return r.json() as Promise<typeof examples>;
    }),
  ]);
  model = loaded;
  examples = list;
  state.model = model.config.name;
  ui.modelFacts.textContent = modelFacts(manifest.meta);
  const young = youngModelNote(manifest.meta);
  ui.modelNote.textContent = young ?? '';
  ui.modelNote.hidden = young === null;
  if (!model.config.pitchConditioning) {
    ui.pitch.disabled = true;
    ui.pitchFrom.textContent = '(this model takes no pitch)';
  }
  state.notes = Object.keys(examples);
  for (const id of state.notes) {
    addOption(ui.note, id, id);
    addOption(ui.noteB, id, id);
  }
  ui.noteB.selectedIndex = Math.min(1, state.notes.length - 1);
  // Software adapters generate a few hundred to a few thousand samples a second: start short.
  ui.length.value = state.software ? '0.25' : '1';
  wireControls();
  await showOriginal();
  setStatus(
    'ready',
    state.software
      ? `Ready. ${engine.adapter.name} is a software adapter: generation runs well below real time, so keep notes short.`
      : 'Ready.',
  );
}

interface ManifestMeta {
  steps?: number;
  trainSeconds?: number;
  validation?: { default?: { clearF0?: number; within50Cents?: number; medianLogSpectralDistance?: number } };
}

/** The model's name, size and how far it has trained, from its manifest: the visitor should know what to expect. */
function modelFacts(meta: ManifestMeta | undefined): string {
  const c = model.config;
  const params = `${(parameterCount(c) / 1e6).toFixed(2)} M parameters`;
  const parts = [`model: ${c.name} (${params}${c.pitchConditioning ? ', pitch-conditioned' : ''})`];
  if (meta?.steps !== undefined) parts.push(`${meta.steps.toLocaleString('en')} training steps`);
  const v = meta?.validation?.default;
  // within50Cents is a fraction of the notes with a clear f0 (as `nsynth eval` reports it).
  if (v?.clearF0 !== undefined && v.within50Cents !== undefined)
    parts.push(
      `keeps pitch on ${Math.round(v.within50Cents * v.clearF0)} of ${v.clearF0} validation notes (${(100 * v.within50Cents).toFixed(0)}%)`,
    );
  return parts.join(' · ');
}

/** Where the manifest's validation says the model does not keep pitch, the visitor hears why. */
function youngModelNote(meta: ManifestMeta | undefined): string | null {
  const v = meta?.validation?.default;
  if (!v?.clearF0 || v.within50Cents === undefined || v.within50Cents >= 0.5) return null;
  return (
    'This model is young: it has learnt the statistics of waveforms, not yet the notes, so its reconstructions ' +
    'sound like noise shaped by the note rather than the note itself (see "The default model" in the README).'
  );
}

start().catch(fail);
