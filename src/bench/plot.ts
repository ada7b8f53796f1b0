// The fast-generation benchmark as a picture: aggregate samples/s (log y) against batch (log2 x),
// our rows as one line with each point labelled by the path that ran it, any peers measured beside
// us as a line each, and the adapter's two measured ceilings turned into samples/s, so the distance
// to what the hardware allows can be read off directly.
//
// Drawn as hand-written SVG (as src/eval/figure.ts is) rather than with vega-lite + vega, although
// both are in node_modules (devDependencies, used offline by tools/model-choice-report.mjs):
//  - this module is part of the shipped package (the bench CLI), and vega is a devDependency; moving
//    it into `dependencies` would add 31 vega-* packages (~23 MB with their d3 modules) to every
//    install for one chart;
//  - vega renders SVG only asynchronously (View.toSVG returns a Promise), and this API is
//    synchronous, like rainbowgramFigure;
//  - the chart is small: two log axes, polylines, markers and a legend, about as much code as the
//    vega-lite spec plus the layering needed to label points and draw the ceiling staircase.
// The PNG comes from resvg with the bundled DejaVu Sans (formats/svg-png.ts, as figure.ts uses).
import { svgToPng } from '../formats/svg-png.js';
import { stepWeightBytes, VOICE_TILE } from '../generate/route.js';
import type { ModelConfig } from '../model/config.js';
import type { GenerateBenchRow } from './generate.js';

export interface PeerPoint {
  peer: string;
  batch: number;
  aggregateSamplesPerSecond: number;
}

export interface GenerateBenchPlotInput {
  rows: GenerateBenchRow[];
  peers?: PeerPoint[];
  ceilings: { readGBps: number; fmaGflops: number };
  /** f32 bytes of weights one generation step reads per weight pass (stepWeightBytes in src/generate/route.ts). */
  stepWeightBytes: number;
  /** Bytes per stored weight: 2 for f16. Default: 2 where every row read f16 weights, else 4. */
  weightBytesPerElement?: 2 | 4;
  /** Arithmetic of one sample of one voice (see flopsPerSample). */
  flopsPerSample: number;
  title: string;
}

export const PLOT_WIDTH = 900;
export const PLOT_HEIGHT = 500;
/** The plot area; the legend takes the space to its right. */
const AREA = { left: 78, top: 62, right: 620, bottom: 440 };
const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

/** Series colours (tests look for these pixels). Ours is drawn last, on top of everything. */
export const PLOT_COLOURS = {
  ours: '#d62728',
  peers: ['#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#e377c2'],
  readCeiling: '#7f7f7f',
  fmaCeiling: '#222222',
} as const;

/** Floating-point operations of one generated sample of one voice: a multiply and an add per weight, each weight used once per step. */
export function flopsPerSample(c: ModelConfig): number {
  return 2 * (stepWeightBytes(c) / 4);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** 1234 -> "1.2k", 0.05 -> "0.05": tick labels that stay short over many decades. */
function compact(v: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, unit] of units) if (v >= scale) return `${Number((v / scale).toPrecision(3))}${unit}`;
  return String(Number(v.toPrecision(3)));
}

/** Three significant digits with thousands separators: 4,000, 32.5, 0.912. */
function sig3(v: number): string {
  return v.toLocaleString('en-US', { maximumSignificantDigits: 3 });
}

function pathLabel(r: GenerateBenchRow): string {
  return r.kernel ?? `${r.path}${r.weightStorage === 'f16' ? ' f16' : ''}`;
}

/** Aggregate samples/s if reading the weights were the only cost: one pass over them per voice tile. */
function readCeilingAt(batch: number, readBytesPerSecond: number, bytesPerPass: number): number {
  return (readBytesPerSecond / (bytesPerPass * Math.ceil(batch / VOICE_TILE))) * batch;
}

export interface GenerateBenchPlotLayout {
  width: number;
  height: number;
  area: { left: number; top: number; width: number; height: number };
  /** Screen x of a batch size, y of an aggregate samples/s. */
  x: (batch: number) => number;
  y: (samplesPerSecond: number) => number;
  /** The y axis runs from 10^decades[0] to 10^decades[1]. */
  decades: [number, number];
  /** The batches the ceilings are evaluated at (powers of two over the domain, and every measured batch). */
  ceilingBatches: number[];
  readCeiling: (batch: number) => number;
  fmaCeiling: number;
  /** Bytes per weight the read ceiling assumes (2: f16). */
  weightBytesPerElement: 2 | 4;
}

/** The scales and ceilings the plot uses (exported so tests can find where a point was drawn). */
export function generateBenchPlotLayout(input: GenerateBenchPlotInput): GenerateBenchPlotLayout {
  const { rows, ceilings } = input;
  const peers = input.peers ?? [];
  if (rows.length === 0 && peers.length === 0) throw new Error('generateBenchPlot: no rows and no peers to plot');
  const configs = [...new Set(rows.map((r) => r.config))];
  if (configs.length > 1)
    throw new Error(`generateBenchPlot: rows of one config expected (the ceilings are per config), got ${configs}`);
  const elementBytes: 2 | 4 =
    input.weightBytesPerElement ?? (rows.length > 0 && rows.every((r) => r.weightStorage === 'f16') ? 2 : 4);
  const bytesPerPass = (input.stepWeightBytes * elementBytes) / 4;
  const readCeiling = (b: number) =>
    ceilings.readGBps > 0 && bytesPerPass > 0 ? readCeilingAt(b, ceilings.readGBps * 1e9, bytesPerPass) : Number.NaN;
  // Compute-bound, every voice's sample costs the same arithmetic, whatever the batch.
  const fmaCeiling =
    ceilings.fmaGflops > 0 && input.flopsPerSample > 0 ? (ceilings.fmaGflops * 1e9) / input.flopsPerSample : Number.NaN;

  const batches = [...rows.map((r) => r.batch), ...peers.map((p) => p.batch)].filter((b) => b >= 1);
  if (batches.length === 0) throw new Error('generateBenchPlot: no batch size >= 1');
  // Whole powers of two at the ends, a third of an octave of padding so no point sits on the frame.
  const lo = Math.floor(Math.log2(Math.min(...batches)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log2(Math.max(...batches))));
  const x0 = lo - 0.35;
  const x1 = hi + 0.35;
  const powers = Array.from({ length: hi - lo + 1 }, (_, i) => 2 ** (lo + i));
  const ceilingBatches = [...new Set([...powers, ...batches])].sort((a, b) => a - b);

  const values = [
    ...rows.map((r) => r.aggregateSamplesPerSecond),
    ...peers.map((p) => p.aggregateSamplesPerSecond),
    ...ceilingBatches.map(readCeiling),
    fmaCeiling,
  ].filter((v) => Number.isFinite(v) && v > 0);
  if (values.length === 0) throw new Error('generateBenchPlot: no positive samples/s to plot');
  // Whole decades, with room above the highest point for its label.
  const y0 = Math.floor(Math.log10(Math.min(...values)) - 0.05);
  const y1 = Math.max(y0 + 1, Math.ceil(Math.log10(Math.max(...values)) + 0.1));

  const width = AREA.right - AREA.left;
  const height = AREA.bottom - AREA.top;
  return {
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    area: { left: AREA.left, top: AREA.top, width, height },
    x: (b) => AREA.left + ((Math.log2(b) - x0) / (x1 - x0)) * width,
    y: (v) => AREA.bottom - ((Math.log10(v) - y0) / (y1 - y0)) * height,
    decades: [y0, y1],
    ceilingBatches,
    readCeiling,
    fmaCeiling,
    weightBytesPerElement: elementBytes,
  };
}

function polyline(points: [number, number][], colour: string, strokeWidth: number, dash = ''): string {
  if (points.length < 2) return '';
  const d = points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ');
  return `<polyline points="${d}" fill="none" stroke="${colour}" stroke-width="${strokeWidth}"${dash ? ` stroke-dasharray="${dash}"` : ''} stroke-linejoin="round" clip-path="url(#area)"/>`;
}

/** A marker: circles for us, squares for peers (told apart without colour too). */
function marker(px: number, py: number, colour: string, shape: 'circle' | 'square'): string {
  return shape === 'circle'
    ? `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="5" fill="${colour}"/>`
    : `<rect x="${(px - 4.5).toFixed(1)}" y="${(py - 4.5).toFixed(1)}" width="9" height="9" fill="${colour}"/>`;
}

interface LegendEntry {
  colour: string;
  dash: string;
  strokeWidth: number;
  shape: 'circle' | 'square' | null;
  lines: string[];
}

/** SVG and PNG (PLOT_WIDTH x PLOT_HEIGHT) of a `nsynth bench generate` run, with peers and the adapter's ceilings. */
export function generateBenchPlot(input: GenerateBenchPlotInput): { svg: string; png: Uint8Array } {
  const L = generateBenchPlotLayout(input);
  const { left, top, width, height } = L.area;
  const bottom = top + height;
  const right = left + width;
  const rows = [...input.rows].sort((a, b) => a.batch - b.batch);
  const peers = input.peers ?? [];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}" font-family="${FONT}">`,
    `<defs><clipPath id="area"><rect x="${left}" y="${top}" width="${width}" height="${height}"/></clipPath></defs>`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${L.width / 2}" y="24" font-size="16" font-weight="bold" text-anchor="middle">${escapeXml(input.title)}</text>`,
  ];
  const adapter = rows[0]?.adapter;
  const sub = [
    adapter ? `adapter: ${adapter}` : '',
    rows[0] ? `config ${rows[0].config}` : '',
    `measured ceilings: read ${sig3(input.ceilings.readGBps)} GB/s, FMA ${sig3(input.ceilings.fmaGflops)} GFLOP/s`,
  ].filter(Boolean);
  parts.push(
    `<text x="${L.width / 2}" y="44" font-size="12" fill="#444" text-anchor="middle">${escapeXml(sub.join('; '))}</text>`,
  );

  // Grid and ticks: every decade, with 2 and 5 between them when few decades are shown.
  const [d0, d1] = L.decades;
  const ticks: { t: number; major: boolean }[] = [];
  for (let d = d0; d <= d1; d++) {
    ticks.push({ t: 10 ** d, major: true });
    if (d1 - d0 <= 3 && d < d1) ticks.push({ t: 2 * 10 ** d, major: false }, { t: 5 * 10 ** d, major: false });
  }
  for (const { t, major } of ticks) {
    const py = L.y(t);
    parts.push(
      `<line x1="${left}" y1="${py.toFixed(1)}" x2="${right}" y2="${py.toFixed(1)}" stroke="${major ? '#d8d8d8' : '#eeeeee'}"/>`,
      `<text x="${left - 8}" y="${(py + 4).toFixed(1)}" font-size="11" text-anchor="end">${compact(t)}</text>`,
    );
  }
  const xPowers = L.ceilingBatches.filter((b) => Number.isInteger(Math.log2(b)));
  for (const b of xPowers) {
    const px = L.x(b);
    parts.push(
      `<line x1="${px.toFixed(1)}" y1="${top}" x2="${px.toFixed(1)}" y2="${bottom}" stroke="#eeeeee"/>`,
      `<line x1="${px.toFixed(1)}" y1="${bottom}" x2="${px.toFixed(1)}" y2="${bottom + 5}" stroke="#444"/>`,
      `<text x="${px.toFixed(1)}" y="${bottom + 18}" font-size="11" text-anchor="middle">${b}</text>`,
    );
  }
  parts.push(
    `<rect x="${left - 0.5}" y="${top - 0.5}" width="${width + 1}" height="${height + 1}" fill="none" stroke="#444"/>`,
    `<text x="${left + width / 2}" y="${bottom + 40}" font-size="13" text-anchor="middle">batch (voices generated together; log2 scale)</text>`,
    `<text x="18" y="${top + height / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 18 ${top + height / 2})">aggregate samples/s, all voices (log scale)</text>`,
  );

  const legend: LegendEntry[] = [];
  // The ceilings first, so the measured lines are drawn over them.
  const elementBytes = L.weightBytesPerElement;
  const passMB = (input.stepWeightBytes * elementBytes) / 4 / 1e6;
  const readPoints = L.ceilingBatches
    .map((b) => [b, L.readCeiling(b)] as const)
    .filter(([, v]) => Number.isFinite(v) && v > 0)
    .map(([b, v]) => [L.x(b), L.y(v)] as [number, number]);
  if (readPoints.length > 0) {
    parts.push(polyline(readPoints, PLOT_COLOURS.readCeiling, 2, '7 4'));
    legend.push({
      colour: PLOT_COLOURS.readCeiling,
      dash: '7 4',
      strokeWidth: 2,
      shape: null,
      lines: [
        `read ceiling: ${sig3(input.ceilings.readGBps)} GB/s over`,
        `${sig3(passMB)} MB of ${elementBytes === 2 ? 'f16' : 'f32'} weights a step,`,
        `one weight pass per ${VOICE_TILE} voices`,
        '(our voice tile)',
      ],
    });
  }
  if (Number.isFinite(L.fmaCeiling)) {
    const py = L.y(L.fmaCeiling);
    parts.push(
      polyline(
        [L.x(L.ceilingBatches[0]), L.x(L.ceilingBatches[L.ceilingBatches.length - 1])].map((px) => [px, py]) as [
          number,
          number,
        ][],
        PLOT_COLOURS.fmaCeiling,
        2,
        '2 3',
      ),
    );
    legend.push({
      colour: PLOT_COLOURS.fmaCeiling,
      dash: '2 3',
      strokeWidth: 2,
      shape: null,
      lines: [
        `FMA ceiling: ${sig3(input.ceilings.fmaGflops)} GFLOP/s over`,
        `${sig3(input.flopsPerSample / 1e6)} MFLOP a sample of a voice`,
        '(any batch)',
      ],
    });
  }

  // Peers: one line each, in order of first appearance.
  const peerNames = [...new Set(peers.map((p) => p.peer))];
  peerNames.forEach((name, i) => {
    const colour = PLOT_COLOURS.peers[i % PLOT_COLOURS.peers.length];
    const pts = peers
      .filter((p) => p.peer === name && p.batch >= 1 && p.aggregateSamplesPerSecond > 0)
      .sort((a, b) => a.batch - b.batch)
      .map((p) => [L.x(p.batch), L.y(p.aggregateSamplesPerSecond)] as [number, number]);
    parts.push(polyline(pts, colour, 2), ...pts.map(([px, py]) => marker(px, py, colour, 'square')));
    legend.push({ colour, dash: '', strokeWidth: 2, shape: 'square', lines: [name] });
  });

  // Ours last: the line, its markers, and each point's path name above it.
  const ours = rows
    .filter((r) => r.batch >= 1 && r.aggregateSamplesPerSecond > 0)
    .map((r) => ({ r, px: L.x(r.batch), py: L.y(r.aggregateSamplesPerSecond) }));
  if (ours.length > 0) {
    parts.push(
      polyline(
        ours.map((o) => [o.px, o.py]),
        PLOT_COLOURS.ours,
        2.5,
      ),
    );
    // Every point's path name where the names fit between neighbours (about 6.5 px a character at
    // 11 px); where they would overlap, only the points where the path changes are named.
    const fits = ours.every(
      (o, i) => i === 0 || o.px - ours[i - 1].px > 3.25 * (pathLabel(o.r).length + pathLabel(ours[i - 1].r).length) + 8,
    );
    ours.forEach((o, i) => {
      parts.push(marker(o.px, o.py, PLOT_COLOURS.ours, 'circle'));
      if (fits || i === 0 || pathLabel(o.r) !== pathLabel(ours[i - 1].r))
        parts.push(
          `<text x="${o.px.toFixed(1)}" y="${(o.py - 10).toFixed(1)}" font-size="11" text-anchor="${!fits && i === 0 ? 'start' : 'middle'}" fill="${PLOT_COLOURS.ours}" stroke="white" stroke-width="3" paint-order="stroke">${escapeXml(pathLabel(o.r))}</text>`,
        );
    });
    const labelNote = fits ? 'labels: the path that ran' : 'labels: the path, from that batch on';
    legend.unshift({
      colour: PLOT_COLOURS.ours,
      dash: '',
      strokeWidth: 2.5,
      shape: 'circle',
      lines: [`nsynth-webgpu (ours)${rows[0] ? `, ${rows[0].config}` : ''}`, labelNote],
    });
  }

  // Legend: right of the plot, a line sample and marker, then the entry's text lines.
  let ly = top + 8;
  const lx = right + 20;
  for (const e of legend) {
    const cy = ly + 4;
    parts.push(
      `<line x1="${lx}" y1="${cy}" x2="${lx + 30}" y2="${cy}" stroke="${e.colour}" stroke-width="${e.strokeWidth}"${e.dash ? ` stroke-dasharray="${e.dash}"` : ''}/>`,
    );
    if (e.shape) parts.push(marker(lx + 15, cy, e.colour, e.shape));
    e.lines.forEach((line, i) => {
      parts.push(
        `<text x="${lx + 38}" y="${(cy + 4 + i * 15).toFixed(1)}" font-size="12"${i > 0 ? ' fill="#444"' : ''}>${escapeXml(line)}</text>`,
      );
    });
    ly += e.lines.length * 15 + 12;
  }
  parts.push('</svg>');
  const svg = parts.join('\n');
  return { svg, png: svgToPng(svg) };
}
