// Modules that only tools/build-browser.js provides (esbuild plugins), never present as files.
declare module 'virtual:stream-worklet' {
  /** The bundled source of src/browser/stream-worklet.ts, an AudioWorklet module. */
  const source: string;
  export default source;
}
