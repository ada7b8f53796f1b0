#!/usr/bin/env bash
# One command for a fresh Linux machine with a GPU (an NVIDIA one with its Vulkan driver, say), run
# from a clone: set up, build if needed, then measure the adapter, fast generation, training, bulk
# rendering and the exported tfjs GraphModel against our forward pass, and
# write everything to ONE JSON file, so that a borrowed machine's few minutes give figures that can
# be compared with the README's and with later runs.
#
#   bash bench/gpu-check.sh [OUT.json]      (default: bench/gpu-check-<host>-<UTC time>.json)
#
# Every step runs under coreutils `timeout`, and the steps share one time budget (GPU_CHECK_BUDGET_S,
# default 440 s; a step also gets up to 10 s to exit after its limit), so the whole run stays under
# 8 minutes. A step that fails or runs out of time is recorded in the JSON (exit status, stderr
# tail) and the next one still runs. Exit status: 0 when every step passed, 1 when some failed
# (the JSON is written either way), 2 without Node 20+ or coreutils.
#
# Environment:
#   NSYNTH_ADAPTER      adapter to measure; default here `hardware`, so a machine whose GPU driver is
#                       missing fails loudly instead of quietly measuring a software adapter
#                       (README, "Choosing the adapter").
#   GPU_CHECK_QUICK=1   tiny settings (config tiny for the big-model run, batch 1, 0.01 s of audio,
#                       one short training step): a smoke test of the script itself, e.g. on lavapipe.
#   GPU_CHECK_BUDGET_S  seconds all steps may take together (default 440).
#   GPU_CHECK_SETUP=0   skip `node tools/setup.mjs` (on Debian as root it may apt-get install
#                       Chromium and fonts, which takes minutes the measurements then lack).
#   GPU_CHECK_NUMPY=0   hide python3 from the benchmarks, so no NumPy step is timed beside ours.
set -u

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

if ! command -v node >/dev/null 2>&1; then
  cat >&2 <<'EOF'
gpu-check: Node.js is not installed; Node 20 or later is needed. For example:
  curl -fsSL https://deb.nodesource.com/setup_22.x | sudo -E bash - && sudo apt-get install -y nodejs
or, without root, nvm (https://github.com/nvm-sh/nvm):  nvm install 22
EOF
  exit 2
fi
NODE_MAJOR=$(node -p 'Number(process.versions.node.split(".")[0])')
if [ "$NODE_MAJOR" -lt 20 ]; then
  echo "gpu-check: Node $(node --version) is too old; install Node 20 or later (e.g. nvm install 22)." >&2
  exit 2
fi
if ! command -v timeout >/dev/null 2>&1; then
  echo "gpu-check: coreutils 'timeout' is missing (apt-get install coreutils)." >&2
  exit 2
fi

QUICK=${GPU_CHECK_QUICK:-0}
BUDGET=${GPU_CHECK_BUDGET_S:-440}
export NSYNTH_ADAPTER=${NSYNTH_ADAPTER:-hardware}
HOST=$( (hostname -s 2>/dev/null || uname -n) | tr -c 'A-Za-z0-9._\n-' '_' | tr -d '\n')
OUT=${1:-bench/gpu-check-${HOST}-$(date -u +%Y%m%dT%H%M%SZ).json}
mkdir -p "$(dirname "$OUT")" || exit 2
STARTED=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
T0=$(date +%s)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
STEPS=()

# step NAME CAP_SECONDS COMMAND...: runs COMMAND with stdout and stderr kept in $WORK, under the
# smaller of CAP_SECONDS and what is left of the budget; skipped when under 5 s are left. The JSON
# names the step by STEP_DESC where set (a script in the temporary folder means nothing later).
step() {
  local name=$1 cap=$2
  shift 2
  local left=$((BUDGET - ($(date +%s) - T0)))
  local limit=$((cap < left ? cap : left))
  STEPS+=("$name")
  printf '%s\n' "${STEP_DESC:-$*}" >"$WORK/$name.cmd"
  if [ "$limit" -lt 5 ]; then
    echo "gpu-check: $name skipped (time budget spent)" >&2
    echo "time budget of ${BUDGET} s spent" >"$WORK/$name.skipped"
    echo 0 >"$WORK/$name.skipok"
    return
  fi
  echo "gpu-check: $name (limit ${limit} s): $*" >&2
  local s e rc
  s=$(date +%s.%N)
  timeout -k 10 "$limit" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  rc=$?
  e=$(date +%s.%N)
  echo "$rc" >"$WORK/$name.rc"
  echo "$limit" >"$WORK/$name.limit"
  echo "$s $e" >"$WORK/$name.time"
  if [ "$rc" -eq 0 ]; then
    echo "gpu-check: $name ok" >&2
  else
    echo "gpu-check: $name FAILED (exit $rc$([ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && echo ', timed out')): $(tail -n 1 "$WORK/$name.err")" >&2
  fi
}

# skip NAME REASON: a step not needed here (recorded as passed).
skip() {
  STEPS+=("$1")
  echo "$2" >"$WORK/$1.skipped"
  echo 1 >"$WORK/$1.skipok"
  echo "gpu-check: $1 skipped ($2)" >&2
}

if [ "${GPU_CHECK_SETUP:-1}" = 0 ]; then
  skip setup 'GPU_CHECK_SETUP=0'
else
  step setup 240 node tools/setup.mjs
fi

if [ -f dist/src/cli/main.js ]; then
  skip build 'dist/ present'
else
  step build 180 npx --no-install tsc -p tsconfig.json
fi

# The benchmarks time a NumPy step where python3 has NumPy; GPU_CHECK_NUMPY=0 shadows python3
# with one that fails, which the benchmark takes as "no NumPy".
BENCH_ENV=()
if [ "${GPU_CHECK_NUMPY:-1}" = 0 ]; then
  mkdir -p "$WORK/no-python"
  printf '#!/bin/sh\nexit 1\n' >"$WORK/no-python/python3"
  chmod +x "$WORK/no-python/python3"
  BENCH_ENV=(env "PATH=$WORK/no-python:$PATH")
fi

# The adapter: what Dawn reports, the limits that matter here, and the probes' ceilings.
cat >"$WORK/adapter.mjs" <<'EOF'
import { pathToFileURL } from 'node:url';
const at = (p) => pathToFileURL(`${process.env.GPU_CHECK_ROOT}/dist/src/${p}`).href;
const { createEngine } = await import(at('gpu/engine.js'));
const { measureCeilings } = await import(at('bench/probes.js'));
let engine;
let ceilings;
try {
  engine = await createEngine();
  ceilings = await measureCeilings(engine);
} catch (e) {
  // The stack, then the reason as the last line (the line the script prints for a failed step).
  console.error(e?.stack ?? e);
  console.error(`adapter: ${e?.message ?? e}`);
  process.exit(1);
}
const names = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
];
const limits = Object.fromEntries(names.map((n) => [n, engine.device.limits[n]]));
const result = { adapter: engine.adapter, features: [...engine.features].sort(), limits, memoryBudget: engine.memoryBudget, ceilings };
console.log(JSON.stringify(result, null, 1));
engine.destroy();
// Dawn's instance keeps the event loop alive (as bin/nsynth.js notes).
process.exit(0);
EOF
STEP_DESC='createEngine() and measureCeilings() from dist/ (inline script)' step adapter 60 env "GPU_CHECK_ROOT=$ROOT" node "$WORK/adapter.mjs"

NSYNTH=(node bin/nsynth.js)
if [ "$QUICK" = 1 ]; then
  step generate_big 90 ${BENCH_ENV[@]+"${BENCH_ENV[@]}"} "${NSYNTH[@]}" bench generate --config tiny --batch 1 --seconds 0.01 --naive-steps 1 --profile --json
  step generate_default 90 ${BENCH_ENV[@]+"${BENCH_ENV[@]}"} "${NSYNTH[@]}" bench generate --config default --batch 1 --seconds 0.01 --naive-steps 1 --json
  step train 90 "${NSYNTH[@]}" bench train --config tiny --batch 1 --crop 512 --steps 1 --profile --json
  step train_recipe_batch 60 "${NSYNTH[@]}" bench train --config tiny --batch 2 --crop 512 --steps 1 --json
  step render 90 node bench/render-throughput.mjs --jobs 4 --seconds 0.05 --batches 1,4 --singles 1 --json
  step tfjs_graph 60 "${NSYNTH[@]}" bench tfjs-graph --model random:tiny --seconds 0.064 --backends webgpu --json
else
  step generate_big 150 ${BENCH_ENV[@]+"${BENCH_ENV[@]}"} "${NSYNTH[@]}" bench generate --config h512_bo16 --batch 1,16,64 --seconds 0.25 --naive-steps 1 --profile --json
  step generate_default 120 ${BENCH_ENV[@]+"${BENCH_ENV[@]}"} "${NSYNTH[@]}" bench generate --config default --batch 1,16,64,256 --seconds 1 --json
  # --profile: each dispatch of a step timed on the GPU, per kernel (a few seconds more)
  step train 120 "${NSYNTH[@]}" bench train --config default,h512_bo16 --batch 4 --steps 2 --profile --json
  # the default model at the batch docs/training-recipe.md proposes for GPU time (batch 1 on a CPU):
  # on a GPU whose step is bound by its ~570 dispatches, 16 crops should cost little more than 1
  step train_recipe_batch 60 "${NSYNTH[@]}" bench train --config default --batch 16 --steps 2 --profile --json
  # nsynth render (the default model) at batch 32 and 128 against one generate process per note (a
  # batch-1 render of 128 jobs would take the step's whole limit: the singles stand for batch 1)
  step render 120 node bench/render-throughput.mjs --jobs 128 --seconds 0.5 --batches 32,128 --singles 2 --json
  # the default model exported as a tfjs GraphModel, on tfjs's webgpu (this GPU) and wasm backends, against ours
  step tfjs_graph 60 "${NSYNTH[@]}" bench tfjs-graph --seconds 1 --backends webgpu,wasm --json
fi

# A picture of each generation run beside the JSON (src/bench/plot.ts), where dist/ has it.
cat >"$WORK/plot.mjs" <<'EOF'
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
const { GPU_CHECK_ROOT: root, GPU_CHECK_WORK: work, GPU_CHECK_PNG_BASE: base } = process.env;
const at = (p) => pathToFileURL(`${root}/dist/src/${p}`).href;
const { generateBenchPlot, flopsPerSample } = await import(at('bench/plot.js'));
const { stepWeightBytes } = await import(at('generate/route.js'));
const { getConfig } = await import(at('model/config.js'));
const files = [];
for (const name of ['generate_big', 'generate_default']) {
  const rc = `${work}/${name}.rc`;
  if (!fs.existsSync(rc) || fs.readFileSync(rc, 'utf8').trim() !== '0') continue;
  const text = fs.readFileSync(`${work}/${name}.out`, 'utf8');
  const rows = JSON.parse(text.slice(text.indexOf('[')));
  if (!Array.isArray(rows) || rows.length === 0) continue;
  const c = getConfig(rows[0].config);
  const { png } = generateBenchPlot({
    rows,
    ceilings: { readGBps: rows[0].readCeilingGBps, fmaGflops: rows[0].fmaCeilingGflops },
    stepWeightBytes: stepWeightBytes(c),
    flopsPerSample: flopsPerSample(c),
    title: `nsynth bench generate --config ${c.name} on ${rows[0].adapter}`,
  });
  const file = `${base}-${c.name}.png`;
  fs.writeFileSync(file, png);
  files.push(file);
}
console.log(JSON.stringify({ files }));
process.exit(0);
EOF
if [ -f dist/src/bench/plot.js ]; then
  STEP_DESC="generateBenchPlot() of each generation run, to ${OUT%.json}-CONFIG.png" step plot 60 env "GPU_CHECK_ROOT=$ROOT" "GPU_CHECK_WORK=$WORK" "GPU_CHECK_PNG_BASE=${OUT%.json}" node "$WORK/plot.mjs"
else
  skip plot 'dist/src/bench/plot.js missing'
fi

# The one JSON file, built by Node (no jq): the machine, the run, and each step's result.
GPU_NAMES=''
if command -v nvidia-smi >/dev/null 2>&1; then
  GPU_NAMES=$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,pci.bus_id --format=csv,noheader 2>&1)
fi
COMMIT=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || true)
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -c 1)
GPU_CHECK_WORK=$WORK GPU_CHECK_STEPS="${STEPS[*]}" GPU_CHECK_OUT=$OUT GPU_CHECK_STARTED=$STARTED \
  GPU_CHECK_UNAME=$(uname -a) GPU_CHECK_NVIDIA=$GPU_NAMES GPU_CHECK_COMMIT=$COMMIT GPU_CHECK_DIRTY=$DIRTY \
  GPU_CHECK_QUICK=$QUICK GPU_CHECK_BUDGET_S=$BUDGET node --input-type=module <<'EOF'
import * as fs from 'node:fs';
import * as os from 'node:os';
const env = process.env;
const work = env.GPU_CHECK_WORK;
const read = (name, ext) => {
  const f = `${work}/${name}.${ext}`;
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : null;
};
const tail = (text, n = 4000) => (text && text.length > n ? `...${text.slice(-n)}` : (text ?? ''));
/** The command's JSON: all of stdout, or from its first line that opens an array or object. */
function parseOutput(text) {
  if (!text?.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    const at = text.search(/^[[{]/m);
    if (at < 0) return null;
    try {
      return JSON.parse(text.slice(at));
    } catch {
      return null;
    }
  }
}
const results = {};
let failed = 0;
for (const name of env.GPU_CHECK_STEPS.split(' ').filter(Boolean)) {
  const command = read(name, 'cmd')?.trim() ?? null;
  const skipped = read(name, 'skipped');
  if (skipped !== null) {
    results[name] = { ok: read(name, 'skipok')?.trim() === '1', skipped: skipped.trim(), command };
    if (!results[name].ok) failed++;
    continue;
  }
  const exitCode = Number(read(name, 'rc'));
  const [s, e] = (read(name, 'time') ?? '0 0').trim().split(' ').map(Number);
  const stdout = read(name, 'out');
  const output = parseOutput(stdout);
  const ok = exitCode === 0;
  if (!ok) failed++;
  results[name] = {
    ok,
    exitCode,
    timedOut: exitCode === 124 || exitCode === 137,
    seconds: Math.round((e - s) * 100) / 100,
    limitSeconds: Number(read(name, 'limit')),
    command,
    output,
    // A failure's stderr says why; a benchmark's stderr under --json is its table, kept short.
    stderrTail: tail(read(name, 'err'), ok ? 3000 : 6000),
    ...(output === null && stdout?.trim() ? { stdoutTail: tail(stdout, 3000) } : {}),
  };
}
const osRelease = fs.existsSync('/etc/os-release')
  ? (/^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? null)
  : null;
const icdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const report = {
  machine: {
    hostname: os.hostname(),
    uname: env.GPU_CHECK_UNAME,
    os: osRelease,
    cpu: os.cpus()[0]?.model ?? null,
    cpuCount: os.cpus().length,
    memoryBytes: os.totalmem(),
    // nvidia-smi's CSV: name, driver version, memory, PCI bus, one GPU a line; null without nvidia-smi.
    gpus: env.GPU_CHECK_NVIDIA
      ? env.GPU_CHECK_NVIDIA.split('\n')
          .filter((l) => l.trim())
          .map((l) => {
            const [name, driver, memory, bus] = l.split(',').map((x) => x.trim());
            return { name, driver, memory, bus };
          })
      : null,
    vulkanIcds: icdDirs.flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).map((f) => `${d}/${f}`) : [])),
  },
  node: process.version,
  commit: env.GPU_CHECK_COMMIT || null,
  uncommittedChanges: env.GPU_CHECK_COMMIT ? env.GPU_CHECK_DIRTY !== '' : null,
  settings: {
    quick: env.GPU_CHECK_QUICK === '1',
    adapter: env.NSYNTH_ADAPTER,
    budgetSeconds: Number(env.GPU_CHECK_BUDGET_S),
  },
  started: env.GPU_CHECK_STARTED,
  finished: new Date().toISOString(),
  failedSteps: Object.keys(results).filter((k) => !results[k].ok),
  results,
};
const out = env.GPU_CHECK_OUT;
fs.writeFileSync(`${out}.partial`, `${JSON.stringify(report, null, 1)}\n`);
fs.renameSync(`${out}.partial`, out);
console.error(`gpu-check: wrote ${out}${failed ? ` (${failed} step(s) failed: ${report.failedSteps.join(', ')})` : ''}`);
process.exit(failed ? 1 : 0);
EOF
