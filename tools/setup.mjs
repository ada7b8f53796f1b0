#!/usr/bin/env node
// The set-up that `npm run demo`, `npm run demo:web` and `npm test` do first, so that a fresh clone
// needs no other command: npm packages where any is missing, then a Vulkan driver for WebGPU (and
// what the tests and figures use: Chromium, DejaVu fonts). On Debian as root the system part runs
// .ci/install-system.sh; elsewhere it prints the one command to run. Plain Node, no packages: it
// runs before they are installed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => console.error(`setup: ${line}`);

/** Dependencies (all kinds npm ci installs) whose package.json is not under node_modules. */
function missingPackages() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.devDependencies });
  return names.filter((name) => !fs.existsSync(path.join(root, 'node_modules', name, 'package.json')));
}

function run(command, args) {
  say(`running ${command} ${args.join(' ')}`);
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    say(`${command} ${args.join(' ')} failed (exit ${r.status ?? r.signal}); fix that and run this again`);
    process.exit(1);
  }
}

const missing = missingPackages();
if (missing.length > 0) {
  say(
    `${missing.length} npm package(s) missing (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''})`,
  );
  // `npm ci` installs exactly the lock file; without one (a tarball checkout), `npm install`.
  run('npm', [fs.existsSync(path.join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund']);
}

// Vulkan drivers WebGPU (Dawn) can use: a hardware one, Mesa's lavapipe, or Chromium's SwiftShader.
const ICD_FOLDERS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const icds = ICD_FOLDERS.flatMap((dir) =>
  fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [],
);
const haveDriver = icds.length > 0 || fs.existsSync(SWIFTSHADER) || process.env.VK_ICD_FILENAMES;
// What the tests and figures need beyond a driver (the same files .ci/install-system.sh checks).
const extras = [['/usr/bin/chromium', 'Chromium (browser tests, the demo test)']];
// (The figures' fonts come with the npm packages: dejavu-fonts-ttf, src/formats/svg-png.ts.)
const lavapipe = fs.existsSync('/usr/share/vulkan/icd.d/lvp_icd.json');
const lacking = extras.filter(([file]) => !fs.existsSync(file)).map(([, what]) => what);
if (!lavapipe && !haveDriver) lacking.unshift('a Vulkan driver (none found)');

if (lacking.length > 0) {
  const debian = fs.existsSync('/etc/debian_version');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (debian && isRoot) {
    say(`installing ${lacking.join(', ')}`);
    run('bash', [path.join(root, '.ci/install-system.sh')]);
  } else {
    const how = debian
      ? 'sudo bash .ci/install-system.sh   (Mesa lavapipe from bookworm-backports, Chromium, DejaVu fonts)'
      : "install your GPU's Vulkan driver, or Mesa's lavapipe (package mesa-vulkan-drivers), and Chromium";
    say(`missing: ${lacking.join(', ')}`);
    say(`run: ${how}`);
    // Without any driver nothing can run; without Chromium only its tests skip.
    if (!haveDriver) process.exit(1);
  }
}
