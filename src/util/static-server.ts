// A tiny static server on 127.0.0.1 (navigator.gpu needs a secure context; localhost is one), which
// serves only files inside the folders it is given: the browser demo's (tools/demo-web.mjs) and the
// headless-browser tests'. test/server.test.ts tries to get out of its folders.
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wav': 'audio/wav',
  '.png': 'image/png',
};

/**
 * The file a URL path names inside `dir`, or null when it would leave it: the path is decoded (so
 * `%2e%2e` and `%2f` count as what they mean), resolved, and must stay below `dir` itself (a sibling
 * folder sharing its name's prefix does not count).
 */
export function insideFolder(dir: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null; // malformed escapes
  }
  if (decoded.includes('\0')) return null;
  const root = path.resolve(dir);
  const file = path.resolve(root, `.${path.sep}${decoded}`);
  const rel = path.relative(root, file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? null : file;
}

export interface ServeOptions {
  /** The port to listen on (default 0: a free one the system picks). */
  port?: number;
  /** The file a URL naming a folder of a route serves (e.g. `index.html`); none by default. */
  index?: string;
}

/**
 * Serves `routes` (URL prefix -> folder; the first prefix that matches decides) and `pages` (URL ->
 * HTML text), on 127.0.0.1 only.
 */
export async function serve(
  routes: Record<string, string>,
  pages: Record<string, string>,
  options: ServeOptions = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (pages[url.pathname] !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(pages[url.pathname]);
      return;
    }
    for (const [prefix, dir] of Object.entries(routes)) {
      if (!url.pathname.startsWith(prefix)) continue;
      const rest = url.pathname.slice(prefix.length);
      const name = options.index && (rest === '' || rest.endsWith('/')) ? `${rest}${options.index}` : rest;
      const file = insideFolder(dir, name);
      if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) break;
      const body = fs.readFileSync(file);
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
      });
      res.end(body);
      return;
    }
    res.writeHead(404);
    res.end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
