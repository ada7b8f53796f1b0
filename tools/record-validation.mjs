// Gathers the three `nsynth eval --json` results of tools/evaluate-default.sh into
// docs/default-model-eval.json and the default model's manifest (meta.validation).
//   node tools/record-validation.mjs DIR SECONDS
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../dist/src/formats/atomic-write.js';

const [dir, seconds] = process.argv.slice(2);
const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
const runs = { default: read('default'), random: read('random'), noise: read('noise') };
const summary = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.summary]));
const record = {
  data: runs.default.data,
  secondsPerNote: Number(seconds),
  adapter: runs.default.adapter,
  summary,
  notes: runs.default.notes,
};
fs.mkdirSync('docs', { recursive: true });
fs.writeFileSync('docs/default-model-eval.json', `${JSON.stringify(record, null, 1)}\n`);
// Only the manifest's meta changes (its checksums cover the tensors), so the data file stays as it is.
const manifestFile = 'weights/default/manifest.json';
const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
manifest.meta = {
  ...manifest.meta,
  validation: { data: record.data, secondsPerNote: record.secondsPerNote, adapter: record.adapter, ...summary },
};
writeFileAtomic(manifestFile, `${JSON.stringify(manifest, null, 1)}\n`);
for (const [k, s] of Object.entries(summary))
  console.log(
    `${k.padEnd(8)} ${(100 * s.within50Cents).toFixed(0).padStart(3)}% within 50 cents of ${s.clearF0}, ` +
      `median clarity ${s.medianClarity.toFixed(2)} (originals ${s.medianOriginalClarity.toFixed(2)}), ` +
      `median LSD ${s.medianLogSpectralDistance.toFixed(2)} dB, ${s.meanBitsPerSample.toFixed(3)} bits/sample` +
      (s.meanPitchUseBits == null ? '' : `, pitch input saves ${s.meanPitchUseBits.toFixed(3)} bits/sample`),
  );
