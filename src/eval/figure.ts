// Rainbowgram figures: one panel per note, stacked for side-by-side reading, each with its title,
// a frequency axis in Hz (ticks on the Cs, low at the bottom) and a time axis in seconds. The
// pixels come from src/dsp/rainbowgram.ts; the panel is drawn as SVG (the pixels embedded as a PNG
// made with fast-png) and rendered to PNG by resvg, so text and lines need no hand-written raster code.
import { encode } from 'fast-png';
import { type Rainbowgram, type RainbowgramOptions, rainbowgram } from '../dsp/rainbowgram.js';
import { svgToPng } from '../formats/svg-png.js';

export interface FigurePanel {
  /** 16 kHz mono audio. */
  audio: Float32Array;
  title: string;
}

export interface FigureOptions extends RainbowgramOptions {
  /** Screen pixels per CQT frame (x) and per bin (y). Default 2 (more for clips under 240 frames) and 2. */
  pxPerFrame?: number;
  pxPerBin?: number;
}

/** Where a panel's plot sits in the figure (tests read pixels through it). */
export interface PanelLayout {
  left: number;
  top: number;
  width: number;
  height: number;
  pxPerFrame: number;
  pxPerBin: number;
  frames: number;
  bins: number;
}

const MARGIN = { left: 78, right: 20, top: 30, bottom: 44 };
const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
const NOTE_NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The figure's size and each panel's plot area, for panels of the given frame counts. */
export function figureLayout(
  frames: number[],
  bins: number,
  o: FigureOptions = {},
): { width: number; height: number; panels: PanelLayout[] } {
  const widest = Math.max(...frames);
  // 2 px per frame (a 4-second note is 502 px wide); short clips are stretched to about 480 px.
  const pxPerFrame = o.pxPerFrame ?? Math.max(2, Math.floor(480 / widest));
  const pxPerBin = o.pxPerBin ?? 2;
  const panelHeight = MARGIN.top + bins * pxPerBin + MARGIN.bottom;
  const panels = frames.map((f, i) => ({
    left: MARGIN.left,
    top: i * panelHeight + MARGIN.top,
    width: f * pxPerFrame,
    height: bins * pxPerBin,
    pxPerFrame,
    pxPerBin,
    frames: f,
    bins,
  }));
  return { width: MARGIN.left + widest * pxPerFrame + MARGIN.right, height: frames.length * panelHeight, panels };
}

/** The rainbowgram's pixels scaled up by whole factors (nearest neighbour), as a PNG data URI. */
function pixelsDataUri(r: Rainbowgram, sx: number, sy: number): string {
  const w = r.width * sx;
  const h = r.height * sy;
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const from = Math.floor(y / sy) * r.width;
    for (let x = 0; x < w; x++) {
      const p = (from + Math.floor(x / sx)) * 4;
      data.set(r.rgba.subarray(p, p + 4), (y * w + x) * 4);
    }
  }
  return `data:image/png;base64,${Buffer.from(encode({ width: w, height: h, data, channels: 4 })).toString('base64')}`;
}

function panelSvg(r: Rainbowgram, title: string, at: PanelLayout): string {
  const { left, top, width, height, pxPerBin, pxPerFrame } = at;
  const bottom = top + height;
  const parts = [
    `<text x="${left}" y="${top - 10}" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<image x="${left}" y="${top}" width="${width}" height="${height}" href="${pixelsDataUri(r, pxPerFrame, pxPerBin)}"/>`,
    `<rect x="${left - 0.5}" y="${top - 0.5}" width="${width + 1}" height="${height + 1}" fill="none" stroke="#444"/>`,
  ];
  // Frequency ticks on every C the bins reach: bin k is fmin * 2^(k / perOctave).
  const perOctave = Math.round(1 / Math.log2(r.frequencies[1] / r.frequencies[0]));
  const fmin = r.frequencies[0];
  for (let midi = 0; midi <= 127; midi += 12) {
    const hz = 440 * 2 ** ((midi - 69) / 12);
    const bin = perOctave * Math.log2(hz / fmin);
    if (bin < -0.5 || bin > r.frequencies.length - 0.5) continue;
    const y = bottom - (bin + 0.5) * pxPerBin;
    const name = `${NOTE_NAMES[midi % 12]}${Math.floor(midi / 12) - 1}`;
    parts.push(
      `<line x1="${left - 5}" y1="${y}" x2="${left}" y2="${y}" stroke="#444"/>`,
      `<text x="${left - 8}" y="${y + 4}" font-size="11" text-anchor="end">${Math.round(hz)} ${name}</text>`,
    );
  }
  parts.push(
    `<text x="14" y="${top + height / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${top + height / 2})">frequency (Hz)</text>`,
  );
  // Time ticks: frame t is centred on sample t * hop.
  const seconds = ((at.frames - 1) * r.hop) / r.sampleRate;
  // At most 10 ticks, and at least 40 px apart (a short note beside a long one is a narrow panel).
  const pxPerSecond = (pxPerFrame * r.sampleRate) / r.hop;
  const step =
    [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60].find((s) => seconds / s <= 10 && s * pxPerSecond >= 40) ?? 120;
  for (let s = 0; s <= seconds + 1e-9; s += step) {
    const x = left + ((s * r.sampleRate) / r.hop + 0.5) * pxPerFrame;
    parts.push(
      `<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#444"/>`,
      `<text x="${x}" y="${bottom + 18}" font-size="11" text-anchor="middle">${Number(s.toFixed(2))}</text>`,
    );
  }
  parts.push(`<text x="${left + width / 2}" y="${bottom + 36}" font-size="12" text-anchor="middle">time (s)</text>`);
  return parts.join('\n');
}

/** A PNG of the panels' rainbowgrams stacked top to bottom. */
export function rainbowgramFigure(panels: FigurePanel[], o: FigureOptions = {}): Uint8Array {
  if (!panels.length) throw new Error('rainbowgramFigure: no panels');
  const grams = panels.map((p) => rainbowgram(p.audio, o));
  const layout = figureLayout(
    grams.map((g) => g.width),
    grams[0].height,
    o,
  );
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" font-family="${FONT}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...grams.map((g, i) => panelSvg(g, panels[i].title, layout.panels[i])),
    '</svg>',
  ].join('\n');
  // optimizeSpeed: the embedded pixels are placed 1:1, never smoothed
  return svgToPng(svg, { imageRendering: 1 });
}
