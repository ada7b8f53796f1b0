#!/usr/bin/env node
// `npm run demo:web`: the browser demo (demo/, built to dist/demo/ by tools/build-browser.js),
// served from 127.0.0.1 with the default model and the bundled notes, and its URL printed. WebGPU
// needs a secure context, and http://127.0.0.1 is one; the server binds to 127.0.0.1 only and
// serves nothing outside the four folders below (src/util/static-server.ts).
//
//   npm run demo:web [-- --port 8080]      (or PORT=8080; default: a free port)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: flags } = parseArgs({ options: { port: { type: 'string' } } });
const portText = flags.port ?? process.env.PORT ?? '0';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`demo:web: the port must be an integer from 0 to 65535, got "${portText}"`);
  process.exit(1);
}

const demoDir = path.join(root, 'dist', 'demo');
const server = path.join(root, 'dist', 'src', 'util', 'static-server.js');
for (const [file, what] of [
  [path.join(demoDir, 'index.html'), 'the demo page'],
  [server, 'the static server'],
]) {
  if (!fs.existsSync(file)) {
    console.error(`demo:web: ${what} (${path.relative(root, file)}) is not built: run npm run build`);
    process.exit(1);
  }
}
const weights = path.join(root, 'weights', 'default');
if (!fs.existsSync(path.join(weights, 'manifest.json'))) {
  console.error('demo:web: weights/default/ has no model (manifest.json); the demo needs the shipped default model');
  process.exit(1);
}

const { serve } = await import(server);
const site = await serve(
  {
    '/weights/default/': weights,
    '/examples/notes/': path.join(root, 'examples', 'notes'),
    '/dist/browser/': path.join(root, 'dist', 'browser'),
    '/': demoDir,
  },
  {},
  { port, index: 'index.html' },
).catch((e) => {
  console.error(`demo:web: cannot listen on 127.0.0.1:${port}: ${e.message}`);
  process.exit(1);
});

console.log(`nsynth-webgpu browser demo: ${site.url}/`);
console.log('Open it in a browser with WebGPU (Chrome or Edge 113+, Safari 26, Firefox 141+ on Windows; on Linux,');
console.log('chrome://flags/#enable-unsafe-webgpu). Ctrl-C stops the server.');
const stop = async () => {
  await Promise.race([site.close(), new Promise((r) => setTimeout(r, 500))]);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
