// The npm package as a user gets it: `npm pack` of the built tree (dist/ from `npm run build`, which
// `npm test` runs first) must hold what the library, the CLI and the browser bundle need and nothing
// else; its main entry must not load TensorFlow.js; and a project outside the repository that installs
// the tarball must type-check the README's API example (strict, no skipLibCheck) and run a
// reconstruction and `nsynth bench generate` from the installed copy.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav16k } from '../src/formats/wav.js';

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  exports: Record<string, string | { types?: string; import?: string }>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
};
const WEBGPU_REFERENCE = '/// <reference types="@webgpu/types" />';
const NOTE = path.join(ROOT, 'examples/notes/guitar_acoustic_010-060-127.wav');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-package-'));
const UNPACKED = path.join(tmp, 'unpacked');

/** Every path `npm pack` may put in the tarball; anything else is a packaging mistake. */
const ALLOWED = [
  /^(package\.json|README\.md|LICENSE|NOTICE|CHANGELOG\.md)$/,
  /^bin\/nsynth\.js$/,
  /^kernels\/[\w-]+\.wgsl$/,
  // The compiled library, without source maps (they point at src/*.ts, which is not shipped).
  // The CLI's declarations stay out: nothing imports them, and they name dev-only types (cli-progress).
  /^dist\/src\/(?!browser\/|cli\/)[\w/-]+\.(js|d\.ts)$/,
  /^dist\/src\/cli\/[\w/-]+\.js$/,
  // Only the declarations of src/browser/ (the bundle's types): its .js imports the bundler's virtual: modules.
  /^dist\/src\/browser\/(?!node-stub\.)[\w-]+\.d\.ts$/,
  /^dist\/browser\/nsynth\.(js|js\.map|d\.ts)$/,
  // The page side of `nsynth bench generate --browser` (src/bench/browser.ts serves it to Chromium).
  /^dist\/browser\/bench\.(js|js\.map)$/,
  // The shipped models only, never what a user wrote into weights/.
  /^weights\/(default|baseline-small)\/(manifest\.json|weights\.bin)$/,
  // `nsynth bench generate` runs it (src/bench/generate.ts: <package root>/src/bench/numpy_step.py).
  /^src\/bench\/numpy_step\.py$/,
];

/**
 * Runs a command to the end (never throws on failure). Asynchronous: a vitest worker blocked in a
 * synchronous child for long (npm install) fails the run with 'Timeout calling "onTaskUpdate"'.
 */
function run(
  cmd: string,
  args: string[],
  o: { cwd: string; timeout?: number },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, timeout: o.timeout ?? 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', reject);
    child.once('close', (status) =>
      resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

async function ok(cmd: string, args: string[], cwd: string, timeout?: number): Promise<string> {
  const r = await run(cmd, args, { cwd, timeout });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The files in src/ that compile to a module of the package (declaration files and the bundle's stub excluded). */
function sourceModules(dir = path.join(ROOT, 'src')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sourceModules(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [path.relative(ROOT, p)] : [];
  });
}

// A resolve hook (module.register) that reports every module URL an import resolves, so a child
// process can say which modules importing an entry point loads. Node 20 runs hooks on their own
// thread; receiveMessageOnPort drains what they posted once the import has finished.
const HOOKS = `let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  port.postMessage(r.url);
  return r;
}
`;
const LOADED = `import { register } from 'node:module';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
register(new URL('./hooks.mjs', import.meta.url), { data: { port: port2 }, transferList: [port2] });
const loaded = {};
for (const spec of process.argv.slice(2)) {
  await import(spec);
  const urls = [];
  for (let m; (m = receiveMessageOnPort(port1)); ) urls.push(m.message);
  loaded[spec] = urls;
}
console.log(JSON.stringify(loaded));
process.exit(0);
`;

/** Module URLs each specifier's import resolved (in order, each after the ones before it), in a fresh Node. */
async function loadedModules(dir: string, specifiers: string[]): Promise<Record<string, string[]>> {
  fs.writeFileSync(path.join(dir, 'hooks.mjs'), HOOKS);
  fs.writeFileSync(path.join(dir, 'loaded.mjs'), LOADED);
  return JSON.parse(await ok(process.execPath, ['loaded.mjs', ...specifiers], dir));
}

const TENSORFLOW = /\/node_modules\/@tensorflow\//;

let packed: { filename: string; files: { path: string }[]; size: number; unpackedSize: number } | null = null;
let packError = '';

beforeAll(async () => {
  const missing = ['dist/src/index.js', 'dist/browser/nsynth.js', 'dist/browser/nsynth.d.ts'].filter(
    (f) => !fs.existsSync(path.join(ROOT, f)),
  );
  if (missing.length > 0) {
    packError =
      `${missing.join(', ')} missing: run \`npm run build\` first (npm test does; ` +
      'its last step, tools/build-types.mjs, writes the browser types)';
    return;
  }
  // --ignore-scripts: `prepare` would rebuild dist/ under the other test files' feet.
  const out = await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
  packed = JSON.parse(out)[0];
  // What was packed, not dist/ now: another build may rewrite dist/ while this file runs.
  fs.mkdirSync(UNPACKED);
  await ok('tar', ['-xzf', path.join(tmp, packed!.filename), '-C', UNPACKED], tmp);
}, 120_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tarball(): NonNullable<typeof packed> {
  if (!packed) throw new Error(packError);
  return packed;
}

describe('npm package', () => {
  it('ships the library, CLI, kernels, bundle, default weights and licence files, and nothing else', () => {
    const files = tarball().files.map((f) => f.path);
    const stray = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
    expect(stray, 'files outside the allow-list').toEqual([]);

    const required = [
      'package.json',
      'README.md',
      'LICENSE',
      'NOTICE',
      'CHANGELOG.md',
      'src/bench/numpy_step.py',
      ...['default', 'baseline-small'].flatMap((w) => [`weights/${w}/manifest.json`, `weights/${w}/weights.bin`]),
      ...Object.values(pkg.bin).map((p) => path.posix.normalize(p)),
      ...Object.values(pkg.exports).flatMap((t) =>
        (typeof t === 'string' ? [t] : [t.types, t.import]).map((p) => path.posix.normalize(p ?? 'missing')),
      ),
      ...fs
        .readdirSync(path.join(ROOT, 'kernels'))
        .filter((f) => f.endsWith('.wgsl'))
        .map((f) => `kernels/${f}`),
      // Every module of the library and the CLI, compiled with its declarations (src/browser's are the bundle's).
      ...sourceModules()
        .filter((f) => !f.startsWith('src/browser/'))
        .flatMap((f) => [
          `dist/${f.slice(0, -3)}.js`,
          ...(f.startsWith('src/cli/') ? [] : [`dist/${f.slice(0, -3)}.d.ts`]),
        ]),
    ];
    expect(
      required.filter((f) => !files.includes(f)),
      'required files missing from the tarball (a module missing from dist/ means it is older than src/: npm run build)',
    ).toEqual([]);
    console.log(
      `npm pack: ${files.length} files, ${(tarball().size / 1e6).toFixed(2)} MB packed, ` +
        `${(tarball().unpackedSize / 1e6).toFixed(2)} MB unpacked`,
    );
  });

  it('declares its ambient types: @webgpu/types referenced by every entry, no Node types, no virtual: module', () => {
    const files = new Set(tarball().files.map((f) => f.path));
    const entries = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [] : [t]));
    // The declarations a consumer's tsc reads: those of the entry points and everything they import.
    const reached = new Set<string>();
    const visit = (file: string, from: string) => {
      if (reached.has(file)) return;
      expect(files.has(file), `${file} (imported by ${from}) is not in the tarball`).toBe(true);
      reached.add(file);
      const text = fs.readFileSync(path.join(UNPACKED, 'package', file), 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)\.js'/g))
        visit(path.posix.join(path.posix.dirname(file), `${m[1]}.d.ts`), file);
      expect(text, `${file} imports a bundler-only module`).not.toMatch(/virtual:/);
      // No Node types in the public declarations: browser projects have none, and Node projects need
      // not install @types/node for our sake.
      expect(text, `${file} needs @types/node`).not.toMatch(/\bNodeJS\.|<reference types="node"|from 'node:/);
    };
    for (const t of entries) {
      expect(t.types, `exports entry ${t.import} has no types`).toBeDefined();
      const file = path.posix.normalize(t.types!);
      const text = fs.readFileSync(path.join(UNPACKED, 'package', file), 'utf8');
      expect(text.startsWith(WEBGPU_REFERENCE), `${file} does not reference @webgpu/types`).toBe(true);
      visit(file, 'package.json exports');
    }
    expect(reached.size).toBeGreaterThan(entries.length);
    // The declarations' global types are a dependency; tfjs is needed only to read tfjs models.
    expect(pkg.dependencies['@webgpu/types']).toBeDefined();
    expect(pkg.devDependencies['@webgpu/types']).toBeUndefined();
    for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu']) {
      expect(pkg.dependencies[name], `${name} is a hard dependency`).toBeUndefined();
      expect(pkg.optionalDependencies?.[name], `${name} is not an optional dependency`).toBeDefined();
    }
  });

  it('imports its main and convert entries without loading TensorFlow.js', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'loaded-'));
    const tfjsCore = pathToFileURL(
      createRequire(path.join(ROOT, 'package.json')).resolve('@tensorflow/tfjs-core'),
    ).href;
    const loaded = await loadedModules(dir, [
      pathToFileURL(path.join(ROOT, 'dist/src/index.js')).href,
      pathToFileURL(path.join(ROOT, 'dist/src/convert/index.js')).href,
      tfjsCore,
    ]);
    const [main, convert, control] = Object.values(loaded);
    expect(main.length, 'the hook saw the main entry load').toBeGreaterThan(10);
    expect(main.filter((u) => TENSORFLOW.test(u))).toEqual([]);
    expect(convert.filter((u) => TENSORFLOW.test(u))).toEqual([]);
    // The control: the same check does see tfjs when it is imported.
    expect(control.some((u) => TENSORFLOW.test(u))).toBe(true);
  });

  it('installs into a project outside the repository: README example type-checks, a note reconstructs', async (ctx) => {
    const tgz = path.join(tmp, tarball().filename);
    const app = fs.mkdtempSync(path.join(tmp, 'consumer-'));
    fs.writeFileSync(
      path.join(app, 'package.json'),
      `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`,
    );
    const version = (name: string) =>
      (
        JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    const t0 = performance.now();
    const install = await run(
      'npm',
      [
        'install',
        tgz,
        `typescript@${version('typescript')}`,
        `@types/node@${version('@types/node')}`,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
      ],
      { cwd: app, timeout: 400_000 },
    );
    if (install.status !== 0) {
      if (
        /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|fetch failed/i.test(install.stderr)
      ) {
        console.warn(`package install test skipped: the npm registry is unreachable\n${install.stderr.slice(-2000)}`);
        ctx.skip();
      }
      throw new Error(`npm install ${tgz} failed:\n${install.stderr}`);
    }
    console.log(`consumer npm install: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const installed = path.join(app, 'node_modules', pkg.name);

    // The README's API and streaming examples (those importing the package), each a module of a
    // strict project, with declarations for the names they leave to the reader.
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = (title: string) => {
      const at = readme.indexOf(`\n## ${title}`);
      expect(at, `README section "${title}"`).toBeGreaterThan(0);
      return readme.slice(at, readme.indexOf('\n## ', at + 1));
    };
    const blocks = [section('API'), section('Streaming')]
      .flatMap((text) => [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]))
      .filter((b) => /from 'nsynth-webgpu/.test(b));
    expect(
      blocks.length,
      "ts blocks importing nsynth-webgpu in the README's API and streaming sections",
    ).toBeGreaterThan(1);
    const free: Record<string, string> = {
      audio: 'declare const audio: Float32Array;',
      note: 'declare const note: Float32Array;',
      original: 'declare const original: Float32Array;',
      reconstruction: 'declare const reconstruction: Float32Array;',
      signal: 'declare const signal: AbortSignal;',
      play: 'declare function play(samples: Float32Array): void;',
      model: "declare const model: import('nsynth-webgpu').NSynthModel;",
      context: 'declare const context: AudioContext;',
      show: 'declare function show(stats: unknown): void;',
    };
    fs.mkdirSync(path.join(app, 'src'));
    blocks.forEach((b, i) => {
      const preamble = Object.entries(free)
        .filter(
          // used, and not declared by the block (const x, function x, or destructured: const { a: x })
          ([name]) =>
            new RegExp(`\\b${name}\\b`).test(b) &&
            !new RegExp(`\\b(const|let|function) (${name}\\b|\\{[^}]*\\b${name}\\b[^}]*\\})`).test(b),
        )
        .map(([, d]) => d);
      fs.writeFileSync(path.join(app, 'src', `readme-api-${i}.ts`), `${preamble.join('\n')}\n${b}`);
    });
    // Every entry point, in a Node project and (with no Node types at all) in a browser project.
    const entries = `import * as main from 'nsynth-webgpu';
import * as train from 'nsynth-webgpu/train';
import * as convert from 'nsynth-webgpu/convert';
import * as browser from 'nsynth-webgpu/browser';
import * as node from 'nsynth-webgpu/node';
export const used = [main.createEngine, main.loadModel, train.train, train.Tape, convert.convertToWeights, browser.kernelNames, node.readWavResampled, node.shippedModelPath];
export async function browserEngine(): Promise<main.Engine> {
  const engine = await browser.createEngine({ adapter: 'auto' });
  const model: main.NSynthModel = await browser.loadModel(engine, '/weights/default/');
  model.dispose();
  return engine;
}
`;
    fs.writeFileSync(path.join(app, 'src', 'entries.ts'), entries);
    const strict = { strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022' };
    fs.writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { ...strict, module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'] },
        include: ['src/**/*.ts'],
      }),
    );
    fs.writeFileSync(
      path.join(app, 'tsconfig.browser.json'),
      JSON.stringify({
        compilerOptions: {
          ...strict,
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: [],
        },
        include: ['src/entries.ts'],
      }),
    );
    const tsc = path.join(app, 'node_modules/typescript/bin/tsc');
    await ok(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    await ok(process.execPath, [tsc, '-p', 'tsconfig.browser.json'], app);

    // The bare specifier, through the exports map, loads no tfjs either.
    const loaded = await loadedModules(app, ['nsynth-webgpu']);
    expect(loaded['nsynth-webgpu'].some((u) => u.startsWith(pathToFileURL(installed).href))).toBe(true);
    expect(loaded['nsynth-webgpu'].filter((u) => TENSORFLOW.test(u))).toEqual([]);

    // A reconstruction through the installed package, its kernels and its default weights: 0.256 s
    // (8 frames) of a guitar note encoded and generated back.
    const note = readWav16k(NOTE).slice(0, 4096);
    fs.writeFileSync(path.join(app, 'note.f32'), note);
    fs.writeFileSync(
      path.join(app, 'reconstruct.mjs'),
      `import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, loadModel } from 'nsynth-webgpu';
import { shippedModelPath } from 'nsynth-webgpu/node';
const root = path.dirname(fileURLToPath(import.meta.resolve('nsynth-webgpu/package.json')));
if (shippedModelPath() !== path.join(root, 'weights/default')) throw new Error('shippedModelPath: ' + shippedModelPath());
const bytes = fs.readFileSync('note.f32');
const audio = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const engine = await createEngine();
const model = await loadModel(engine, shippedModelPath());
const emb = await model.encode(audio);
const out = await model.generate(emb, { seed: 1, pitch: model.config.pitchConditioning ? 60 : undefined });
console.log(JSON.stringify({ root, config: model.config.name, embedding: emb.shape, samples: out.length,
  finite: out.every(Number.isFinite), peak: out.reduce((m, x) => Math.max(m, Math.abs(x)), 0) }));
model.dispose();
engine.destroy();
process.exit(0);
`,
    );
    const r = JSON.parse((await ok(process.execPath, ['reconstruct.mjs'], app, 180_000)).trim().split('\n').at(-1)!);
    expect(fs.realpathSync(r.root)).toBe(fs.realpathSync(installed));
    const shipped = JSON.parse(fs.readFileSync(path.join(ROOT, 'weights/default/manifest.json'), 'utf8'));
    expect(r.config).toBe(shipped.config.name);
    expect(r.embedding).toEqual([8, 16]);
    expect(r.samples).toBe(4096);
    expect(r.finite).toBe(true);
    expect(r.peak).toBeGreaterThan(0);

    // The CLI from the installed bin: `bench generate` times NumPy with the script it finds at
    // <package root>/src/bench/numpy_step.py (null there means it was not found or python3 failed).
    expect(fs.existsSync(path.join(installed, 'src/bench/numpy_step.py'))).toBe(true);
    const bench = JSON.parse(
      await ok(
        path.join(app, 'node_modules/.bin/nsynth'),
        ['bench', 'generate', '--config', 'tiny', '--batch', '1', '--seconds', '0.05', '--naive-steps', '2', '--json'],
        app,
        180_000,
      ),
    ) as { numpySamplesPerSecond: number | null }[];
    const numpy = (await run('python3', ['-c', 'import numpy'], { cwd: app }).catch(() => null))?.status === 0;
    if (numpy) expect(bench[0].numpySamplesPerSecond).toBeGreaterThan(0);
    else console.warn('python3 with numpy is absent: bench generate ran without its NumPy comparison');
  }, 600_000);
});
