// Builds the browser side: dist/browser/nsynth.js, an ES module of the whole library with the WGSL
// kernels and the stream player's AudioWorklet inlined as strings and Node-only modules replaced by
// stubs; dist/browser/bench.js, the page side of `nsynth bench generate --browser`; and the demo
// page (demo/ -> dist/demo/: index.html, style.css and demo.js, the page's code bundled with the
// library), which tools/demo-web.mjs serves.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// An AudioWorklet module is loaded on its own (from a Blob URL) and cannot import from the page's
// bundle, so the processor is bundled first, by itself, and handed to the library as a string.
const worklet = await esbuild.build({
  entryPoints: [path.join(root, 'src/browser/stream-worklet.ts')],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  logLevel: 'warning',
  metafile: true,
});
const workletSource = worklet.outputFiles[0].text;
const workletInputs = Object.keys(worklet.metafile.inputs).map((f) => path.resolve(root, f));

const virtualModules = {
  name: 'virtual-modules',
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
    build.onResolve({ filter: /^virtual:stream-worklet$/ }, () => ({ path: 'worklet', namespace: 'virtual-worklet' }));
    build.onLoad({ filter: /.*/, namespace: 'virtual-worklet' }, () => ({
      contents: `export default ${JSON.stringify(workletSource)};`,
      loader: 'js',
      watchFiles: workletInputs,
    }));
    // Node's built-ins and Dawn's Node binding, reached only through dynamic import() on Node code
    // paths (guarded by a Node check), become modules that throw if loaded: left as external
    // imports, they made a consumer's bundler fail to resolve them (esbuild with its defaults,
    // Vite, webpack), although a browser never runs those paths.
    build.onResolve({ filter: /^(webgpu|node:.*)$/ }, (args) => ({ path: args.path, namespace: 'node-only' }));
    build.onLoad({ filter: /.*/, namespace: 'node-only' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in nsynth-webgpu/browser (a page or worker build); in Node, import 'nsynth-webgpu'`)});`,
      loader: 'js',
    }));
    // Node-only modules: the file-system weights reader/writer and the tuned-kernel file store.
    build.onResolve({ filter: /(weights-node|atomic-write|package-root|tuning-file)\.js$/ }, () => ({
      path: path.join(root, 'src/browser/node-stub.ts'),
    }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  plugins: [virtualModules],
  logLevel: 'warning',
};

await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'src/browser/index.ts')],
  outfile: path.join(root, 'dist/browser/nsynth.js'),
});
console.log('built dist/browser/nsynth.js');

// The benchmark's page code is a bundle of its own (loaded by src/bench/browser.ts's page), so the
// library's bundle, which every page using the library loads, carries no benchmark code.
await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'src/browser/bench-entry.ts')],
  outfile: path.join(root, 'dist/browser/bench.js'),
});
console.log('built dist/browser/bench.js');

const demoOut = path.join(root, 'dist/demo');
await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'demo/main.ts')],
  outfile: path.join(demoOut, 'demo.js'),
});
for (const file of ['index.html', 'style.css'])
  fs.copyFileSync(path.join(root, 'demo', file), path.join(demoOut, file));
console.log('built dist/demo/ (index.html, style.css, demo.js)');
