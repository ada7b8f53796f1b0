// The browser build: the same API, with every WGSL kernel bundled as a string (esbuild).
import kernels from 'virtual:kernels';
import { createEngine as createEngineWith, type EngineOptions, type Engine } from '../gpu/engine.js';

export * from '../index.js';

/** createEngine for the browser: kernels come from the bundle instead of the file system. */
export function createEngine(options: EngineOptions = {}): Promise<Engine> {
  return createEngineWith({
    kernelSource: (name: string) => {
      const code = kernels[name];
      if (code === undefined) throw new Error(`No kernel named "${name}" in this bundle`);
      return code;
    },
    ...options,
  });
}

/** Names of the kernels in this bundle. */
export const kernelNames: string[] = Object.keys(kernels);
