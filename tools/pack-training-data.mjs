#!/usr/bin/env node
// Packs an NSynth-layout training set (train/ and valid/, each examples.json + audio/*.wav) into one
// file of mu-law classes, and unpacks it again, so a training run can travel to a borrowed GPU
// machine inside a small upload: the model reads nothing of a note but its 8-bit mu-law classes
// (src/train/data.ts quantises every crop), so the classes are the whole training signal, at a
// quarter of 16-bit PCM's bytes (and xz takes 900 notes' 57.6 MB of classes to 17.7 MB).
//
//   node tools/pack-training-data.mjs pack DATA_DIR OUT.bin      (then: xz -9 -T0 OUT.bin)
//   node tools/pack-training-data.mjs unpack IN.bin OUT_DIR
//
// Unpacked notes are 32-bit float WAVs holding each class's decoded value (inv_mu_law, the centre of
// its bin), which the quantiser maps back to the same class (checked on unpack for all 256). Only the
// RMS that the crop sampler's --min-crop-rms compares is not bit-identical to the original's (it
// sees the quantised waveform); which crops a seed draws can differ there, nothing else.
//
// Layout: "NSMULAW1", a little-endian u32 header length, the header as JSON ({splits: {name:
// {examples, notes: [{key, length}]}}}), then each split's notes' classes, one byte a sample, in the
// header's order.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const at = (p) => pathToFileURL(path.join(root, 'dist/src', p)).href;
const { readWav16k } = await import(at('formats/wav.js'));
const { encodeWav } = await import(at('formats/wav-encode.js'));
const { muLawQuantizeArray, MU_LAW_DECODE_TABLE } = await import(at('ops/mu-law.js'));

const MAGIC = 'NSMULAW1';
const SPLITS = ['train', 'valid'];
/** NSynth's note names (instrument_family_source_NNN-PPP-VVV): letters, digits, '_', '-', '.', not a path. */
const NOTE_NAME = /^(?!\.{1,2}$)[\w.-]+$/;

function pack(dataDir, outFile) {
  const header = { splits: {} };
  const bodies = [];
  for (const split of SPLITS) {
    const dir = path.join(dataDir, split);
    const examplesFile = path.join(dir, 'examples.json');
    if (!fs.existsSync(examplesFile)) {
      console.error(`pack: ${examplesFile} is missing; split ${split} left out`);
      continue;
    }
    const examples = JSON.parse(fs.readFileSync(examplesFile, 'utf8'));
    const notes = [];
    for (const key of Object.keys(examples).sort()) {
      const wav = path.join(dir, 'audio', `${key}.wav`);
      if (!fs.existsSync(wav)) throw new Error(`pack: ${wav}: missing (named by ${examplesFile})`);
      const { classes } = muLawQuantizeArray(readWav16k(wav));
      bodies.push(Uint8Array.from(classes));
      notes.push({ key, length: classes.length });
    }
    header.splits[split] = { examples, notes };
  }
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  fs.writeFileSync(`${outFile}.partial`, Buffer.concat([head, json, ...bodies]));
  fs.renameSync(`${outFile}.partial`, outFile);
  for (const [s, { notes }] of Object.entries(header.splits)) console.error(`pack: ${s}: ${notes.length} notes`);
}

function unpack(inFile, outDir) {
  const bytes = fs.readFileSync(inFile);
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC)
    throw new Error(`unpack: ${inFile}: not a packed training set (no ${MAGIC})`);
  const jsonLength = bytes.readUInt32LE(8);
  if (12 + jsonLength > bytes.length) throw new Error(`unpack: ${inFile}: header runs past the end (truncated?)`);
  const header = JSON.parse(bytes.toString('utf8', 12, 12 + jsonLength));
  const roundTrip = muLawQuantizeArray(MU_LAW_DECODE_TABLE).classes;
  for (let k = 0; k < 256; k++)
    if (roundTrip[k] !== k) throw new Error(`unpack: class ${k} does not decode and quantise back to itself`);
  // The header names the files written: only the known splits, plain note names and whole lengths,
  // so a damaged or hostile file cannot write outside OUT_DIR or walk the offsets backwards.
  const splits = header?.splits;
  if (typeof splits !== 'object' || splits === null) throw new Error(`unpack: ${inFile}: the header has no splits`);
  for (const [split, body] of Object.entries(splits)) {
    if (!SPLITS.includes(split)) throw new Error(`unpack: ${inFile}: unknown split ${JSON.stringify(split)}`);
    if (!Array.isArray(body?.notes) || typeof body.examples !== 'object' || body.examples === null)
      throw new Error(`unpack: ${inFile}: split ${split} lacks its notes or examples`);
    for (const n of body.notes) {
      if (typeof n?.key !== 'string' || !NOTE_NAME.test(n.key))
        throw new Error(`unpack: ${inFile}: ${split}: bad note name ${JSON.stringify(n?.key)}`);
      if (!Number.isSafeInteger(n.length) || n.length < 0)
        throw new Error(`unpack: ${inFile}: ${split}/${n.key}: bad length ${JSON.stringify(n.length)}`);
    }
  }
  let at = 12 + jsonLength;
  for (const [split, { examples, notes }] of Object.entries(splits)) {
    const audioDir = path.join(outDir, split, 'audio');
    fs.mkdirSync(audioDir, { recursive: true });
    for (const { key, length } of notes) {
      if (at + length > bytes.length)
        throw new Error(`unpack: ${inFile}: ${split}/${key} runs past the end (truncated?)`);
      const samples = Float32Array.from(bytes.subarray(at, at + length), (c) => MU_LAW_DECODE_TABLE[c]);
      fs.writeFileSync(path.join(audioDir, `${key}.wav`), encodeWav(samples, 16000, '32f'));
      at += length;
    }
    fs.writeFileSync(path.join(outDir, split, 'examples.json'), JSON.stringify(examples));
    console.error(`unpack: ${split}: ${notes.length} notes`);
  }
  if (at !== bytes.length) throw new Error(`unpack: ${inFile}: ${bytes.length - at} bytes after the last note`);
}

const [verb, a, b] = process.argv.slice(2);
try {
  if (verb === 'pack' && a && b) pack(a, b);
  else if (verb === 'unpack' && a && b) unpack(a, b);
  else {
    console.error('usage: node tools/pack-training-data.mjs pack DATA_DIR OUT.bin | unpack IN.bin OUT_DIR');
    process.exit(2);
  }
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
