// Runs a model exported with `nsynth convert --to tfjs-graph` in plain TensorFlow.js (Node, the
// tfjs CPU backend, or wasm with --wasm): encodes a 16 kHz note, computes the teacher-forced logits
// and prints the embedding's shape and the model's bits per sample on the note.
//   npx nsynth convert weights/default --to tfjs-graph --out tfjs/default
//   node examples/tfjs/logits.mjs tfjs/default NOTE.wav [MIDI_PITCH] [--wasm]
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import wavefile from 'wavefile';
import { tfjsFileHandler } from 'nsynth-webgpu/convert';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const [modelDir, wavPath, pitchArg] = args;
if (!modelDir || !wavPath) {
  console.error('usage: node examples/tfjs/logits.mjs MODEL_DIR NOTE.wav [MIDI_PITCH] [--wasm]');
  process.exit(2);
}
if (process.argv.includes('--wasm')) await import('@tensorflow/tfjs-backend-wasm');
tf.env().set('PROD', true);
await tf.setBackend(process.argv.includes('--wasm') ? 'wasm' : 'cpu');

// The note as 16 kHz mono float32, trimmed to whole 512-sample frames (the graph does not trim).
const wav = new wavefile.WaveFile(fs.readFileSync(wavPath));
if (wav.fmt.sampleRate !== 16000) throw new Error(`${wavPath}: ${wav.fmt.sampleRate} Hz, the model wants 16000`);
wav.toBitDepth('32f');
const channels = wav.getSamples(false, Float64Array);
const mono = Array.isArray(channels) || channels[0]?.length ? channels[0] : channels;
const T = Math.floor(mono.length / 512) * 512;
const audio = Float32Array.from(mono.subarray(0, T));

const graph = await loadGraphModel(tfjsFileHandler(modelDir));
const inputs = { audio: tf.tensor2d(audio, [1, T]) };
if (graph.inputs.some((i) => i.name === 'pitch')) inputs.pitch = tf.tensor1d([Number(pitchArg ?? 60)], 'int32');
const [logits, embedding] = graph.execute(inputs, ['logits', 'embedding']);

// Bits per sample: -log2 p(class of sample t | samples before t), averaged. The classes are the
// note's own mu-law classes, which the graph computed inside; here they come from the logits' input
// by the same quantisation (mu = 255, floor(128 sign(x) ln(1 + 255|x|) / ln 256) + 128, clamped).
const classes = tf.tidy(() => {
  const x = tf.clipByValue(tf.tensor1d(audio), -1, 1);
  const y = tf.div(tf.mul(tf.sign(x), tf.log1p(tf.mul(tf.abs(x), 255))), Math.log(256));
  return tf.cast(tf.clipByValue(tf.add(tf.floor(tf.mul(y, 128)), 128), 0, 255), 'int32');
});
const bits = tf.tidy(() => {
  const logp = tf.logSoftmax(tf.reshape(logits, [T, 256]));
  const picked = tf.sum(tf.mul(logp, tf.oneHot(classes, 256)), 1);
  return tf.div(tf.neg(tf.mean(picked)), Math.LN2);
});
console.log(
  `embedding [${embedding.shape}], logits [${logits.shape}], ${(await bits.data())[0].toFixed(4)} bits per sample (${tf.getBackend()})`,
);
tf.dispose([logits, embedding, classes, bits, ...Object.values(inputs)]);
