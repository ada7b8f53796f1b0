// Turns the training logs of tools/model-choice.sh into docs/model-choice.md (a table) and
// docs/model-choice.png (validation bits per sample against wall-clock time, one line per config).
//   node tools/model-choice-report.mjs RUN_DIR CONFIG...
// Each RUN_DIR/CONFIG.jsonl holds `nsynth train --json` lines; evalLoss is nats per sample.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { getConfig } from '../dist/src/model/config.js';
import { initWeights } from '../dist/src/model/weights.js';
import { svgToPng } from '../dist/src/formats/svg-png.js';

const [runs, ...configs] = process.argv.slice(2);
if (!runs || configs.length === 0) {
  console.error('usage: node tools/model-choice-report.mjs RUN_DIR CONFIG...');
  process.exit(2);
}
const BITS = 1 / Math.log(2);
const points = [];
const rows = [];
for (const name of configs) {
  const file = path.join(runs, `${name}.jsonl`);
  if (!fs.existsSync(file)) {
    console.error(`${file}: missing (was ${name} trained?)`);
    process.exit(1);
  }
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  if (lines.length === 0) {
    console.error(`${file}: no log lines`);
    process.exit(1);
  }
  const evals = lines.filter((l) => l.evalLoss !== undefined);
  for (const l of evals) points.push({ config: name, minutes: l.seconds / 60, bits: l.evalLoss * BITS });
  const last = lines[lines.length - 1];
  const c = getConfig(name);
  const params = [...initWeights(c, 0).tensors.values()].reduce((n, t) => n + t.data.length, 0);
  const best = evals.length ? Math.min(...evals.map((l) => l.evalLoss * BITS)) : NaN;
  const lastEval = evals.length ? evals[evals.length - 1].evalLoss * BITS : NaN;
  const recent = lines.slice(-5);
  rows.push({
    name,
    params,
    pitch: c.pitchConditioning,
    steps: last.step,
    minutes: last.seconds / 60,
    samplesPerSecond: recent.reduce((s, l) => s + l.samplesPerSecond, 0) / recent.length,
    trainBits: recent.reduce((s, l) => s + l.loss, 0) * (BITS / recent.length),
    lastEval,
    best,
  });
}

const spec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  width: 560,
  height: 320,
  background: 'white',
  title: 'Validation NLL (nsynth-subset/valid, teacher forced) against training time',
  layer: [
    {
      data: { values: points },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'minutes', type: 'quantitative', title: 'wall-clock minutes of training' },
        y: { field: 'bits', type: 'quantitative', title: 'bits per sample', scale: { zero: false } },
        color: { field: 'config', type: 'nominal' },
      },
    },
    {
      // A uniform guess over the 256 mu-law classes (what plain noise scores).
      data: { values: [{ bits: 8 }] },
      mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
      encoding: { y: { field: 'bits', type: 'quantitative' } },
    },
  ],
};
const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
const svg = await view.toSVG();
fs.mkdirSync('docs', { recursive: true });
fs.writeFileSync('docs/model-choice.png', svgToPng(svg, { fitTo: { mode: 'width', value: 1200 } }));

const table = [
  '| config | parameters | pitch one-hot | steps | minutes | train samples/s | train bits/sample (last 5 logs) | valid bits/sample (last) | valid bits/sample (best) |',
  '|---|---:|:-:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${(r.params / 1e6).toFixed(2)} M | ${r.pitch ? 'yes' : 'no'} | ${r.steps} | ${r.minutes.toFixed(1)} | ${r.samplesPerSecond.toFixed(0)} | ${r.trainBits.toFixed(3)} | ${r.lastEval.toFixed(3)} | ${r.best.toFixed(3)} |`,
  ),
].join('\n');
fs.writeFileSync(path.join(runs, 'table.md'), `${table}\n`);
console.log(table);
console.log('wrote docs/model-choice.png');
