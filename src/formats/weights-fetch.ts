// Loading a weights folder over HTTP(S) (the browser, or Node given a URL).
import { decodeWeights, parseManifest, MANIFEST_NAME } from './weights-file.js';
import { type AnyConfig, type Weights, waveNetWeights } from '../model/weights.js';

/** A WaveNet weights folder over HTTP(S) (a baseline's is refused by name). */
export async function fetchWeights(base: string): Promise<Weights> {
  return waveNetWeights(await fetchAnyWeights(base), base);
}

/** A weights folder of either architecture over HTTP(S). */
export async function fetchAnyWeights(base: string): Promise<Weights<AnyConfig>> {
  // Relative URLs resolve against the page, as fetch() would.
  const page = (globalThis as { location?: { href: string } }).location?.href;
  const root = new URL(base.endsWith('/') ? base : `${base}/`, page).toString();
  const manifestUrl = new URL(MANIFEST_NAME, root).toString();
  const response = await fetch(manifestUrl);
  if (!response.ok) throw new Error(`${manifestUrl}: HTTP ${response.status}`);
  const m = parseManifest(await response.text(), manifestUrl);
  const dataUrl = new URL(m.data.file, root).toString();
  const dataResponse = await fetch(dataUrl);
  if (!dataResponse.ok) throw new Error(`${dataUrl}: HTTP ${dataResponse.status}`);
  const len = Number(dataResponse.headers.get('content-length') ?? NaN);
  if (Number.isFinite(len) && len !== m.data.bytes) {
    throw new Error(
      `${dataUrl}: ${len} bytes, the manifest says ${m.data.bytes} ` +
        `(${len < m.data.bytes ? 'truncated' : 'extra bytes'})`,
    );
  }
  return decodeWeights(m, new Uint8Array(await dataResponse.arrayBuffer()), dataUrl);
}
