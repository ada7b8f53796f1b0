// What a model's decoder takes from its conditioning: teacher-forced bits per sample of notes with
// their own embedding and pitch, a zero embedding, the next note's embedding, and (pitch-conditioned
// models) the pitch an octave away. A decoder that loses little without its embedding predicts from
// its past samples alone, and its free-running reconstructions cannot follow the note.
//   node tools/conditioning-use.mjs MODEL_DIR DATA_DIR [NOTES=10] [SECONDS=0.5]
import { bitsPerSample, createEngine, loadModel, muLawQuantizeArray } from '../dist/src/index.js';
import { openNoteSource } from '../dist/src/dataset/nsynth.js';
import { octaveAway } from '../dist/src/model/inputs.js';

const [modelDir, data, count = '10', seconds = '0.5'] = process.argv.slice(2);
if (!modelDir || !data) {
  console.error('usage: node tools/conditioning-use.mjs MODEL_DIR DATA_DIR [NOTES] [SECONDS]');
  process.exit(2);
}
const engine = await createEngine();
const model = await loadModel(engine, modelDir);
const source = openNoteSource(data);
const n = Math.min(Number(count), source.notes.length);
const hop = model.config.hop;
const T = Math.max(hop, Math.round((Number(seconds) * model.config.sampleRate) / hop) * hop);
// Notes spread over the set (it is ordered by instrument, then pitch).
const picked = Array.from({ length: n }, (_, k) => Math.floor((k * source.notes.length) / n));
const audio = picked.map((i) => {
  const a = source.audio(i).subarray(0, T);
  if (a.length < T) throw new Error(`${source.where}: ${source.notes[i].noteStr} is shorter than ${seconds} s`);
  return a;
});
const embeddings = [];
for (const a of audio) embeddings.push(await model.encode(a));
const pitched = model.config.pitchConditioning;
const columns = ['own', 'zero embedding', 'next note embedding', ...(pitched ? ['pitch octave away'] : [])];
const sums = columns.map(() => 0);
console.log(['note'.padEnd(32), ...columns.map((c) => c.padStart(20))].join(''));
for (let k = 0; k < n; k++) {
  const a = audio[k];
  const classes = muLawQuantizeArray(a).classes;
  const pitch = pitched ? source.notes[picked[k]].pitch : undefined;
  const bits = async (embedding, p) =>
    bitsPerSample((await model.teacherForcedLogits(a, embedding, { pitch: p })).data, classes, 256);
  const row = [
    await bits(embeddings[k], pitch),
    await bits(new Float32Array(embeddings[k].data.length), pitch),
    await bits(embeddings[(k + 1) % n], pitch),
    ...(pitched ? [await bits(embeddings[k], octaveAway(pitch))] : []),
  ];
  row.forEach((v, j) => {
    sums[j] += v;
  });
  console.log([source.notes[picked[k]].noteStr.padEnd(32), ...row.map((v) => v.toFixed(3).padStart(20))].join(''));
}
console.log(['mean bits/sample'.padEnd(32), ...sums.map((v) => (v / n).toFixed(3).padStart(20))].join(''));
source.close();
model.dispose();
