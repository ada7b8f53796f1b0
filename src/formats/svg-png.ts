// SVG to PNG (resvg) with the fonts bundled as a dependency (DejaVu Sans from `dejavu-fonts-ttf`),
// so a figure's labels come out the same on every machine. With system fonts only, a machine without
// them (a server's minimal image, a borrowed GPU machine's CUDA image) renders every <text> as
// nothing and says nothing: the first plots from an H200 came back without a single label.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';

/** The family every figure names first; the bundled files provide it. */
export const FIGURE_FONT_FAMILY = 'DejaVu Sans';

const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'];

let bundled: string[] | null | undefined;

/** The bundled font files, or null where the package is missing (then system fonts are used). */
export function bundledFontFiles(): string[] | null {
  if (bundled !== undefined) return bundled;
  try {
    const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    const files = FONT_FILES.map((f) => path.join(dir, f));
    bundled = files.every((f) => fs.existsSync(f)) ? files : null;
  } catch {
    bundled = null;
  }
  return bundled;
}

/** Renders `svg` to PNG bytes with the bundled fonts (system fonts too, for other families). */
export function svgToPng(svg: string, options: Omit<ResvgRenderOptions, 'font'> = {}): Uint8Array {
  const fontFiles = bundledFontFiles();
  const font = fontFiles
    ? { fontFiles, loadSystemFonts: false, defaultFontFamily: FIGURE_FONT_FAMILY, sansSerifFamily: FIGURE_FONT_FAMILY }
    : { loadSystemFonts: true, defaultFontFamily: FIGURE_FONT_FAMILY };
  return new Uint8Array(new Resvg(svg, { ...options, font }).render().asPng());
}
