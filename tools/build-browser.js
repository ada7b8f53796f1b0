// Builds dist/browser/nsynth.js: an ES module of the whole library for the browser, with the WGSL
// kernels inlined as strings and Node-only modules replaced by stubs.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const kernelsPlugin = {
  name: 'kernels',
  setup(build) {
    build.onResolve({ filter: /^virtual:kernels$/ }, () => ({ path: 'kernels', namespace: 'virtual-kernels' }));
    build.onLoad({ filter: /.*/, namespace: 'virtual-kernels' }, () => {
      const dir = path.join(root, 'kernels');
      const files = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.wgsl'))
        .sort();
      const record = Object.fromEntries(files.map((f) => [f.slice(0, -5), fs.readFileSync(path.join(dir, f), 'utf8')]));
      return {
        contents: `export default ${JSON.stringify(record)};`,
        loader: 'js',
        watchFiles: files.map((f) => path.join(dir, f)),
      };
    });
    // Node-only modules: the file-system weights reader/writer.
    build.onResolve({ filter: /(weights-node|atomic-write|package-root)\.js$/ }, () => ({
      path: path.join(root, 'src/browser/node-stub.ts'),
    }));
  },
};

await esbuild.build({
  entryPoints: [path.join(root, 'src/browser/index.ts')],
  outfile: path.join(root, 'dist/browser/nsynth.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  // Reached only through dynamic import() on Node code paths, never in a browser.
  external: ['webgpu', 'node:*'],
  plugins: [kernelsPlugin],
  logLevel: 'warning',
});
console.log('built dist/browser/nsynth.js');
