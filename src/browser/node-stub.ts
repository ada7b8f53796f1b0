// Stands in for Node-only modules (file system access) in the browser bundle.
function unavailable(): never {
  throw new Error('This function needs Node.js (file system access); in the browser, load models from a URL.');
}
export const readWeightsDir = unavailable;
export const writeWeightsDir = unavailable;
export const writeFileAtomic = unavailable;
export const writeDirAtomic = unavailable;
export const packageRoot = unavailable;
// The tuned-kernel file store (src/generate/tuning-file.ts): a browser keeps choices in localStorage.
export const fileStore = (): null => null;
export const tuningCachePath = unavailable;
