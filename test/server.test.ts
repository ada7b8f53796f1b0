// The static server of the browser demo and the headless-browser tests (src/util/static-server.ts):
// 127.0.0.1 only, and nothing outside the folders it serves, whatever the URL (dot segments, encoded
// dots and slashes, sibling folders sharing a prefix, NUL bytes, index files).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insideFolder, serve } from '../src/util/static-server.js';

/** A raw GET (fetch would normalise the path before sending it). */
function get(base: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, method: 'GET' }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static server', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-serve-'));
  const pub = path.join(root, 'public');
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    fs.mkdirSync(path.join(pub, 'sub'), { recursive: true });
    fs.mkdirSync(path.join(root, 'public-secret'));
    fs.writeFileSync(path.join(pub, 'sub', 'ok.js'), 'served');
    fs.writeFileSync(path.join(root, 'secret.txt'), 'SECRET');
    fs.writeFileSync(path.join(root, 'public-secret', 'x.txt'), 'SECRET');
    server = await serve({ '/static/': pub }, { '/': '<p>page</p>' });
  });
  afterAll(async () => server.close());

  it('binds to 127.0.0.1 and serves its own files', async () => {
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    expect(await get(server.url, '/static/sub/ok.js')).toEqual({ status: 200, body: 'served' });
    expect((await get(server.url, '/')).body).toBe('<p>page</p>');
  });

  it('serves nothing outside its folder, however the path is written', async () => {
    for (const p of [
      '/static/../secret.txt',
      '/static/sub/../../secret.txt',
      '/static/%2e%2e/secret.txt',
      '/static/..%2fsecret.txt',
      '/static/%2e%2e%2fsecret.txt',
      '/static/..%5csecret.txt',
      '/static/%2e%2e/public-secret/x.txt',
      '/static/../public-secret/x.txt',
      '/static/%00',
      '/static/%zz',
      `/static/${encodeURIComponent(path.join(root, 'secret.txt'))}`,
    ]) {
      const r = await get(server.url, p);
      expect(r.status, p).toBe(404);
      expect(r.body, p).not.toContain('SECRET');
    }
    expect(insideFolder(pub, '/sub/ok.js')).toBe(path.join(pub, 'sub', 'ok.js'));
    expect(insideFolder(pub, '../public-secret/x.txt')).toBeNull();
    expect(insideFolder(pub, '')).toBeNull();
  });

  it("serves a folder's index file where asked to, and still nothing outside", async () => {
    fs.writeFileSync(path.join(pub, 'index.html'), 'INDEX');
    fs.writeFileSync(path.join(root, 'index.html'), 'SECRET');
    const site = await serve({ '/static/': pub, '/': pub }, {}, { index: 'index.html' });
    try {
      expect(await get(site.url, '/')).toEqual({ status: 200, body: 'INDEX' });
      expect(await get(site.url, '/static/')).toEqual({ status: 200, body: 'INDEX' });
      expect((await get(site.url, '/static/sub/')).status).toBe(404); // no index.html there
      // Dot segments the URL parser resolves land on '/', pub's own index; encoded ones stay in the
      // path, and the index file name appended to them must not carry them out of the folder.
      for (const p of ['/static/../', '/%2e%2e/', '/static/..%2f/', '/..%2f/', '/static/%2e%2e%2f', '/%2e%2e%5c/']) {
        const r = await get(site.url, p);
        expect(r.body, p).not.toContain('SECRET');
        expect(r.status === 404 || r.body === 'INDEX', `${p}: ${r.status} ${r.body}`).toBe(true);
      }
      expect((await get(site.url, '/static/..%2f/')).status).toBe(404);
    } finally {
      await site.close();
    }
  });

  it('listens on the port it is given', async () => {
    const probe = await serve({}, {});
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const site = await serve({}, { '/': 'here' }, { port });
    try {
      expect(site.url).toBe(`http://127.0.0.1:${port}`);
      await expect(serve({}, {}, { port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await site.close();
    }
  });
});
