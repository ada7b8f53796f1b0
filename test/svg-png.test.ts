// Figures' labels must not depend on the machine's fonts: the PNG is drawn with the bundled DejaVu
// Sans and system fonts off, so text that renders here renders on a machine without any fonts.
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { bundledFontFiles, svgToPng } from '../src/formats/svg-png.js';

/** Pixels darker than mid-grey in the PNG (channel 0 of each pixel). */
function darkPixels(png: Uint8Array): number {
  const img = decode(png);
  const ch = img.channels;
  let n = 0;
  for (let i = 0; i < img.width * img.height; i++) if (img.data[i * ch] < 128) n++;
  return n;
}

const page = (body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><rect width="100%" height="100%" fill="white"/>${body}</svg>`;

describe('svgToPng', () => {
  it('finds the bundled font files', () => {
    const files = bundledFontFiles();
    expect(files).not.toBeNull();
    expect(files?.map((f) => f.split(/[\\/]/).pop())).toEqual(['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf']);
  });

  it('draws text with the bundled fonts (system fonts off), regular and bold, under any family list', () => {
    const blank = darkPixels(svgToPng(page('')));
    expect(blank).toBe(0);
    for (const attrs of [
      'font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"',
      'font-family="sans-serif" font-weight="bold"',
      'font-family="NoSuchFont"',
    ]) {
      const n = darkPixels(svgToPng(page(`<text x="10" y="40" font-size="24" ${attrs}>Hz 440</text>`)));
      // "Hz 440" at 24 px covers a few hundred pixels; nothing drawn would be 0.
      expect(n, attrs).toBeGreaterThan(150);
    }
  });

  it('is the same image each time (no machine-dependent font choice)', () => {
    const svg = page('<text x="10" y="40" font-size="20" font-family="DejaVu Sans">batch 64</text>');
    expect(Buffer.from(svgToPng(svg)).equals(Buffer.from(svgToPng(svg)))).toBe(true);
  });
});
