#!/usr/bin/env node
// `npm run demo`: the main job on the shipped default model. A bundled NSynth note is encoded and
// generated back sample by sample on the GPU; out/ gets the original, the reconstruction and their
// rainbowgrams, and the adapter and the speed are printed. It runs after tools/setup.mjs and the
// build (see package.json), on the built library in dist/: a thin face over the same calls the API
// documents.
//
//   npm run demo [-- --note brass_acoustic_006-060-100] [--seconds 2] [--out DIR] [--adapter NAME]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const notesDir = path.join(root, 'examples', 'notes');
// Paths as a user would type them from where they ran the command.
const shown = (file) => (file.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), file) : file);
const lib = (p) => import(path.join(root, 'dist', 'src', p));
const { createEngine, loadModel, f0ErrorCents, medianF0, yinF0 } = await lib('index.js');
const { readWav16k, encodeWav } = await lib('formats/wav.js');
const { writeFileAtomic } = await lib('formats/atomic-write.js');
const { rainbowgramFigure } = await lib('eval/figure.js');
const { framesForSeconds } = await lib('cli/audio.js');

const usage = `npm run demo [-- --note NAME] [--seconds S] [--out DIR] [--adapter NAME] [--seed N]

A bundled NSynth note encoded and generated back by the default model (weights/default) into out/:
the original, the reconstruction and their rainbowgram.
  --note NAME     one of examples/notes/ (default guitar_acoustic_010-060-127)
  --seconds S     the first S seconds (whole 32 ms frames; at most 4)
  --out DIR       where the files go (default out/)
  --adapter NAME  the WebGPU adapter (as nsynth --adapter)
  --seed N        the sampling seed (default 1)`;
/** One line and exit 1: a demo's mistakes are the user's typing, not a stack trace's business. */
const die = (message) => {
  console.error(`demo: ${String(message).replace(/\s*\n\s*/g, ' ')}`);
  process.exit(1);
};
let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      note: { type: 'string', default: 'guitar_acoustic_010-060-127' },
      seconds: { type: 'string' },
      out: { type: 'string', default: path.join(root, 'out') },
      adapter: { type: 'string' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  die(`${e.message} (npm run demo -- --help)`);
}
if (flags.help) {
  console.log(usage);
  process.exit(0);
}
if (!/^\d+$/.test(flags.seed)) die(`--seed must be a whole number 0 or more, got "${flags.seed}"`);

const notes = JSON.parse(fs.readFileSync(path.join(notesDir, 'examples.json'), 'utf8'));
const name = flags.note.replace(/\.wav$/, '');
if (!notes[name]) {
  console.error(`demo: no bundled note "${name}"; choose one of: ${Object.keys(notes).join(', ')}`);
  process.exit(1);
}
const seconds = flags.seconds === undefined ? undefined : Number(flags.seconds);
if (seconds !== undefined && !(seconds > 0 && seconds <= 4)) {
  console.error(`demo: --seconds must be above 0 and at most 4 (the notes are 4 s), got "${flags.seconds}"`);
  process.exit(1);
}

const engine = await createEngine(flags.adapter ? { adapter: flags.adapter } : {}).catch((e) => die(e.message));
const modelDir = path.join(root, 'weights', 'default');
const model = await loadModel(engine, modelDir);
const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, 'manifest.json'), 'utf8'));
const sr = model.config.sampleRate;

// The note, cut to whole 512-sample frames (what the encoder sees) and to --seconds, rounded (and
// said so on stderr) by the CLI's own framesForSeconds, as `nsynth reconstruct --seconds` rounds it.
const whole = readWav16k(path.join(notesDir, `${name}.wav`));
const hop = model.config.hop;
const wholeFrames = Math.floor(whole.length / hop);
const frames = seconds === undefined ? wholeFrames : Math.min(wholeFrames, framesForSeconds(seconds, sr, hop));
const original = whole.subarray(0, frames * hop);
const pitch = model.config.pitchConditioning ? notes[name].pitch : undefined;

console.log(`adapter: ${engine.adapter.name}`);
console.log(
  `model: ${shown(modelDir)} (${model.config.name}${manifest.meta?.steps ? `, ${manifest.meta.steps} training steps` : ''})`,
);
console.log(`note: ${name} (${+(original.length / sr).toFixed(3)} s${pitch === undefined ? '' : `, MIDI ${pitch}`})`);

const t0 = performance.now();
const embedding = await model.encode(original);
const encodeSeconds = (performance.now() - t0) / 1000;
const bar = process.stderr.isTTY
  ? new cliProgress.SingleBar(
      { format: 'generating |{bar}| {percentage}% | {value}/{total} samples | {rate} samples/s | ETA {eta_formatted}' },
      cliProgress.Presets.shades_classic,
    )
  : null;
bar?.start(original.length, 0, { rate: '-' });
const t1 = performance.now();
const reconstruction = await model.generate(embedding, {
  seed: Number(flags.seed),
  pitch,
  onProgress: (p) => bar?.update(p.done, { rate: p.samplesPerSecond.toFixed(0) }),
});
bar?.stop();
const generateSeconds = (performance.now() - t1) / 1000;

const out = path.resolve(flags.out);
fs.mkdirSync(out, { recursive: true });
const files = {
  original: path.join(out, `${name}-original.wav`),
  reconstruction: path.join(out, `${name}-reconstruction.wav`),
  rainbowgram: path.join(out, `${name}-rainbowgram.png`),
};
writeFileAtomic(files.original, encodeWav(original, sr, '16'));
writeFileAtomic(files.reconstruction, encodeWav(reconstruction, sr, '16'));
writeFileAtomic(
  files.rainbowgram,
  rainbowgramFigure([
    { audio: original, title: `${name}: original` },
    { audio: reconstruction, title: `reconstruction (${model.config.name})` },
  ]),
);

const rms = Math.sqrt(reconstruction.reduce((s, x) => s + x * x, 0) / reconstruction.length);
const f0 = medianF0(yinF0(reconstruction));
const err = f0ErrorCents(reconstruction, original);
const audioSeconds = reconstruction.length / sr;
console.log(
  `encoded in ${encodeSeconds.toFixed(2)} s; generated ${reconstruction.length} samples in ${generateSeconds.toFixed(1)} s`,
);
console.log(
  `speed: ${(reconstruction.length / generateSeconds).toFixed(0)} samples/s, ${(audioSeconds / generateSeconds).toFixed(3)}x real time`,
);
console.log(
  `reconstruction: RMS ${rms.toFixed(3)}, ${err === null ? `no clear f0 (${f0 > 0 ? `${f0.toFixed(0)} Hz` : 'unpitched'})` : `f0 ${err >= 0 ? '+' : ''}${err.toFixed(0)} cents from the original`}`,
);
for (const [what, file] of Object.entries(files)) console.log(`wrote ${what}: ${shown(file)}`);
model.dispose();
engine.destroy();
