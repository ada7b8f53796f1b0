#!/usr/bin/env bash
# bench/gpu-check.sh for a borrowed GPU machine that has no Node.js and no network (a CUDA image
# in a sandbox, say): pack everything the check needs here, carry one file there, run it there.
#
#   bash bench/gpu-kit.sh pack              here, after `npm ci` and a build: writes
#                                           .device-kit/kit.tar.xz (this Node binary, the runtime
#                                           node_modules with Dawn for linux-x64 only, the tfjs
#                                           packages' Node bundles, dist/) and, where apt can,
#                                           the Vulkan loader's and GLVND's .debs beside it
#                                           (~33 MB in all)
#   bash bench/gpu-kit.sh train OUT_DIR S   there: continues the default model's training run for S
#                                           seconds (needs .device-kit/data.bin.xz from
#                                           tools/pack-training-data.mjs); OUT_DIR/state.tar back
#                                           (TRAIN_VARIANTS: several recipes at once, below)
#   bash bench/gpu-kit.sh run OUT_DIR       there, from the same checkout: unpacks the kit, finds
#                                           the Vulkan loader and the GPU's driver, checks that a
#                                           hardware adapter answers, then runs bench/gpu-check.sh
#                                           into OUT_DIR/gpu-check.json (+ its plots)
#
# The kit holds a Linux x86-64 Node build (the packing machine's) and needs glibc 2.28 or later
# there. `run` exits 3, before spending the check's minutes, when no hardware adapter answers, and
# prints what it found (Vulkan ICD files, nvidia-smi) so the next try can be fixed at once.
set -u
cd "$(dirname "$0")/.." || exit 2
KIT_DIR=.device-kit

pack() {
  set -e
  [ -f dist/src/cli/main.js ] || { echo "gpu-kit: build first (npx tsc -p tsconfig.json)" >&2; exit 2; }
  [ -d node_modules/webgpu ] || { echo "gpu-kit: install first (npm ci)" >&2; exit 2; }
  # (global, so the EXIT trap still sees it when set -e ends the script inside this function)
  stage=$(mktemp -d)
  trap 'rm -rf "${stage:-}"' RETURN EXIT
  mkdir -p "$stage/node-bin" "$stage/node_modules" "$KIT_DIR"
  cp "$(command -v node)" "$stage/node-bin/node"
  cp -r dist "$stage/dist"
  # The runtime dependencies (no dev tools); Dawn's other platforms' binaries are 110 MB of the 132.
  local m
  while read -r m; do
    [ -e "$stage/$m" ] && continue # (inside a module copied already)
    mkdir -p "$stage/$(dirname "$m")"
    cp -r "$m" "$stage/$m"
  done < <(npm ls --omit=dev --omit=optional --all --parseable 2>/dev/null | sed "s|^$PWD/||" | tail -n +2)
  find "$stage/node_modules/webgpu/dist" -mindepth 1 -maxdepth 1 -type d ! -name linux-x64 -exec rm -rf {} +
  # The figures draw with two of DejaVu's 22 files (src/formats/svg-png.ts).
  find "$stage/node_modules/dejavu-fonts-ttf/ttf" -type f ! -name DejaVuSans.ttf ! -name DejaVuSans-Bold.ttf -delete 2>/dev/null || true
  # tfjs (optional, for `bench tfjs-graph`): each package's Node bundle and wasm files, not its
  # 20-40 MB of other bundles and sources; and the few packages those bundles require.
  local p main
  for p in tfjs-core tfjs-backend-cpu tfjs-backend-webgpu tfjs-backend-wasm tfjs-converter; do
    [ -d "node_modules/@tensorflow/$p" ] || continue
    main=$(node -p "require('./node_modules/@tensorflow/$p/package.json').main")
    mkdir -p "$stage/node_modules/@tensorflow/$p/dist"
    cp "node_modules/@tensorflow/$p/package.json" "$stage/node_modules/@tensorflow/$p/"
    cp "node_modules/@tensorflow/$p/$main" "$stage/node_modules/@tensorflow/$p/$main"
    cp node_modules/@tensorflow/"$p"/dist/*.wasm "$stage/node_modules/@tensorflow/$p/dist/" 2>/dev/null || true
  done
  for m in long node-fetch seedrandom whatwg-url tr46 webidl-conversions; do
    [ -d "node_modules/$m" ] && cp -r "node_modules/$m" "$stage/node_modules/"
  done
  tar -C "$stage" -cf - . | xz -9 -T0 >"$KIT_DIR/kit.tar.xz.partial"
  mv "$KIT_DIR/kit.tar.xz.partial" "$KIT_DIR/kit.tar.xz"
  # The Vulkan loader, for machines whose image has only the driver (a CUDA image, say).
  if command -v apt-get >/dev/null 2>&1; then
    local lists
    lists=$(mktemp -d)
    mkdir -p "$lists/partial"
    local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
    if apt-get "${o[@]}" update >/dev/null 2>&1; then
      # NVIDIA's Vulkan driver is libGLX_nvidia, which needs GLVND's libraries: without them the
      # loader finds the ICD but 'Could not get vkCreateInstance' (seen on an H200's CUDA image).
      (cd "$KIT_DIR" && apt-get "${o[@]}" download libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2 >/dev/null 2>&1) ||
        echo "gpu-kit: could not download the Vulkan loader and GLVND (the machine there must have them)" >&2
    fi
    rm -rf "$lists"
  fi
  ls -la "$KIT_DIR" >&2
}

# setup_kit OUT_DIR: unpack the kit, put Node on PATH, find the Vulkan loader and driver, and check
# that a hardware adapter answers (exit 3 with what was found when none does).
setup_kit() {
  local out=$1
  mkdir -p "$out" || exit 2
  local here=$PWD kit=/tmp/nsynth-gpu-kit
  rm -rf "$kit" && mkdir -p "$kit" && tar -C "$kit" -xJf "$KIT_DIR/kit.tar.xz" || { echo "gpu-kit: cannot unpack $KIT_DIR/kit.tar.xz" >&2; exit 2; }
  # The kit's node_modules (a link) and dist/ (a copy: the code finds kernels/ and package.json
  # above its own real path) stand in for the checkout's, where it has none.
  if [ -e node_modules ] && [ ! -L node_modules ]; then echo "gpu-kit: keeping the checkout's node_modules/" >&2; else ln -sfn "$kit/node_modules" node_modules; fi
  if [ -e dist ]; then echo "gpu-kit: keeping the checkout's dist/" >&2; else cp -r "$kit/dist" dist; fi
  export PATH="$kit/node-bin:$PATH"
  local have
  have=$(ldconfig -p 2>/dev/null)
  if ! grep -q 'libvulkan\.so\.1' <<<"$have" || ! grep -q 'libGLdispatch\.so\.0' <<<"$have"; then
    local f
    for f in "$KIT_DIR"/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
    ldconfig
  fi
  # A driver whose ICD file lies outside the loader's search path (a mounted driver folder).
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] &&
    ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
    for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
      [ -f "$f" ] && export VK_DRIVER_FILES=$f && break
    done
  fi
  {
    echo "node $(node --version) from the kit; VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
    nvidia-smi 2>&1 | head -20 || true
  } | tee "$out/machine.txt"
  local probe
  probe=$(NSYNTH_ADAPTER=${NSYNTH_ADAPTER:-hardware} timeout 60 node --input-type=module -e "
    const { createEngine } = await import('$here/dist/src/gpu/engine.js');
    const e = await createEngine();
    console.log(JSON.stringify(e.adapter));
    e.destroy();
    process.exit(0);" 2>&1)
  local rc=$?
  echo "adapter probe (exit $rc): $probe" | tee -a "$out/machine.txt"
  if [ "$rc" -ne 0 ]; then
    { ls -la /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1; ldconfig -p | grep -i vulkan; } | tee -a "$out/machine.txt"
    exit 3
  fi
}

run() {
  local out=${1:?usage: gpu-kit.sh run OUT_DIR}
  setup_kit "$out"
  GPU_CHECK_SETUP=0 bash bench/gpu-check.sh "$out/gpu-check.json"
}

# train OUT_DIR SECONDS: continue the default model's run (tools/train-default.sh's recipe, from
# training-state/default) on this GPU for SECONDS, on the training set packed by
# tools/pack-training-data.mjs into .device-kit/data.bin.xz; then Ctrl-C (a checkpoint) and
# OUT_DIR/state.tar: the newest checkpoint, latest.json and the whole log, to unpack over
# training-state/default here (tools/ship-default.mjs then makes weights/default of it).
# TRAIN_EXTRA adds options after the recipe's (later ones win): a recipe change such as
# TRAIN_EXTRA='--batch 16 --schedule-length 40000 --change-options' (docs/training-recipe.md).
# First OUT_DIR/train-profile.json (and .txt): `nsynth bench train --profile` of the default model at
# batch 16, each kernel's share of a step on this GPU (TRAIN_PROFILE=0 skips it).
# TRAIN_VARIANTS='NAME=OPTIONS;NAME=OPTIONS' instead runs several recipes side by side, each from
# training-state/default with its OPTIONS added (or from scratch where OPTIONS begin with the word
# `fresh`), into OUT_DIR/state-NAME.tar each: one training process leaves a GPU idle most of a step
# (it waits on its ~570 dependent dispatches), so a lent GPU's minutes can compare recipes.
train() {
  local out=${1:?usage: gpu-kit.sh train OUT_DIR SECONDS} seconds=${2:?usage: gpu-kit.sh train OUT_DIR SECONDS}
  [[ $seconds =~ ^[0-9]+$ && $seconds -ge 30 ]] || { echo "gpu-kit: train: SECONDS must be a whole number of seconds, 30 or more (got '$seconds')" >&2; exit 2; }
  local specs=() spec names=" "
  if [ -n "${TRAIN_VARIANTS:-}" ]; then
    IFS=';' read -r -d '' -a specs < <(printf '%s' "$TRAIN_VARIANTS" | tr '\n' ';') || true
    local trimmed=()
    for spec in "${specs[@]}"; do
      spec=$(sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$spec")
      [ -n "$spec" ] || continue
      [[ ${spec%%=*} =~ ^[A-Za-z0-9_-]+$ && $spec == *=* ]] || { echo "gpu-kit: TRAIN_VARIANTS: '$spec' is not NAME=OPTIONS (NAME of letters, digits, - and _)" >&2; exit 2; }
      [[ $names != *" ${spec%%=*} "* ]] || { echo "gpu-kit: TRAIN_VARIANTS: the name '${spec%%=*}' twice" >&2; exit 2; }
      names+="${spec%%=*} "
      trimmed+=("$spec")
    done
    specs=(${trimmed[@]+"${trimmed[@]}"})
    [ ${#specs[@]} -gt 0 ] || { echo "gpu-kit: TRAIN_VARIANTS names no variant" >&2; exit 2; }
  else
    specs=("=${TRAIN_EXTRA:-}")
  fi
  setup_kit "$out"
  local data=/tmp/nsynth-data
  rm -rf "$data" && mkdir -p "$data" &&
    xz -dc "$KIT_DIR/data.bin.xz" >"$data/packed.bin" &&
    node tools/pack-training-data.mjs unpack "$data/packed.bin" "$data" || exit 2
  # Where a training step's GPU time goes, at the recipe's GPU batch, before the trainings take the
  # GPU (TRAIN_PROFILE=0 skips it): the kernels to reshape next, from the lent minutes themselves.
  if [ "${TRAIN_PROFILE:-1}" != 0 ]; then
    timeout -k 5 90 node bin/nsynth.js bench train --config default --batch 16 --steps 2 --profile --json \
      >"$out/train-profile.json" 2>"$out/train-profile.txt" || echo "gpu-kit: the training profile failed (see $out/train-profile.txt)" >&2
  fi
  # shellcheck source=../tools/lib/resumable-run.sh
  source tools/lib/resumable-run.sh
  local pids=() rc=0 r pid
  # Killed from outside: the trainings get Ctrl-C (each checkpoints) before this shell goes.
  trap 'kill -INT "${pids[@]}" 2>/dev/null; wait; exit 130' INT TERM
  for spec in "${specs[@]}"; do
    train_one "$out" "$data" "$seconds" "${spec%%=*}" "${spec#*=}" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do
    wait "$pid"
    r=$?
    [ "$rc" -ne 0 ] || rc=$r
  done
  ls -la "$out" >&2
  exit "$rc"
}

# train_one OUT_DIR DATA SECONDS NAME OPTIONS: one training process (train's); state[-NAME].tar,
# with status.json beside the checkpoint (the exit status, the steps it started and ended at).
# OPTIONS may begin with the words `fresh` (from scratch, not from training-state/default) and
# `fit` (fit the learning-rate schedule to the time: run a fifth of SECONDS, up to 120, measure the
# steps per second, then continue with --schedule-length set so that the schedule's last steps
# down, to 3e-5 x lr-scale at 1.05 x its length, fall at 90% of the time left: a restart at the
# schedule's point for the current step that anneals in the time there is, whatever this GPU's speed).
train_one() {
  local out=$1 data=$2 seconds=$3 name=$4 opts=$5
  local suffix=${name:+-$name}
  local run=runs/gpu$suffix
  rm -rf "$run" "$out/state$suffix" "$out/state$suffix.tar"
  local extra=()
  read -r -a extra <<<"$opts" # words, no globbing
  local from=(--resume) fit=0
  while [ "${extra[0]:-}" = fresh ] || [ "${extra[0]:-}" = fit ]; do
    case ${extra[0]} in
      fresh) from=() ;;
      fit) fit=1 ;;
    esac
    extra=("${extra[@]:1}")
  done
  if [ ${#from[@]} -eq 0 ]; then mkdir -p "$run"; else seed_run "$run" training-state/default; fi
  local started=$SECONDS rc first_step
  first_step=$(latest_step "$run")
  if [ "$fit" = 1 ]; then
    local first=$(((seconds / 5) < 120 ? seconds / 5 : 120)) lines length=
    lines=$({ wc -l <"$run/log.jsonl"; } 2>/dev/null || echo 0)
    train_for "$first" ${from[@]+"${from[@]}"} ${extra[@]+"${extra[@]}"}
    rc=$?
    local left=$((seconds - (SECONDS - started)))
    if { [ "$rc" = 124 ] || [ "$rc" = 130 ]; } && [ "$left" -ge 60 ]; then
      length=$(node -e '
        const [file, skip, left] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
        const rows = [];
        for (const l of require("fs").readFileSync(file, "utf8").split("\n").slice(skip)) {
          try { const r = JSON.parse(l); if (r.samplesPerSecond !== undefined) rows.push(r); } catch {}
        }
        if (rows.length < 3) process.exit(1);
        const [a, b] = [rows[1], rows.at(-1)]; // rows[0] carries the start-up
        const rate = (b.step - a.step) / (b.seconds - a.seconds);
        // 90% of the time left: evaluations and checkpoints the first phase may not have timed.
        const length = Math.round((b.step + rate * 0.9 * left) / 1.05);
        if (!Number.isFinite(length) || length <= b.step / 1.2) process.exit(1);
        console.log(length);
      ' "$run/log.jsonl" "$lines" "$((left - 30))") ||
        { echo "gpu-kit: training${name:+ $name}: could not fit the schedule (too few log lines: a lower --log-every); going on without" >&2; length=; }
      local fitted=()
      if [ -n "$length" ]; then
        echo "gpu-kit: training${name:+ $name}: schedule fitted to the time: --schedule-length $length" >&2
        fitted=(--schedule-length "$length" --change-options)
      fi
      train_for "$((seconds - (SECONDS - started)))" --resume ${extra[@]+"${extra[@]}"} ${fitted[@]+"${fitted[@]}"}
      rc=$?
    fi
  else
    train_for "$seconds" ${from[@]+"${from[@]}"} ${extra[@]+"${extra[@]}"}
    rc=$?
  fi
  local last_step
  last_step=$(latest_step "$run")
  echo "gpu-kit: training${name:+ $name} exited $rc (124 or 130: stopped at its time), steps $first_step -> $last_step" >&2
  if [ "$last_step" = "$first_step" ]; then
    echo "gpu-kit: training${name:+ $name} made no checkpoint past step $first_step: no state$suffix.tar" >&2
    case $rc in 0 | 124 | 130) return 1 ;; *) return "$rc" ;; esac
  fi
  # The state goes back whatever happened (a crash still leaves its last checkpoint); status.json says.
  save_state "$run" "$out/state$suffix" &&
    printf '{"exit": %s, "firstStep": %s, "lastStep": %s}\n' "$rc" "$first_step" "$last_step" >"$out/state$suffix/status.json" &&
    tar -C "$out" -cf "$out/state$suffix.tar" "state$suffix" && rm -rf "$out/state$suffix" || return 1
  case $rc in 0 | 124 | 130) return 0 ;; *) return "$rc" ;; esac
}

# train_for SECONDS OPTIONS...: the recipe's training command for SECONDS, then Ctrl-C (a checkpoint);
# its exit status (uses train_one's run, data and name). The recipe's trajectory options exactly
# (tools/train-default.sh); only how often it logs, evaluates and checkpoints differs: a GPU step is
# ~30 ms, and a checkpoint every 25 of them would spend the time writing.
train_for() {
  local limit=$1
  shift
  set -o pipefail
  timeout -s INT -k 60 "$limit" node bin/nsynth.js train --config h32_pitch --data "$data/train" --eval-data "$data/valid" \
    --steps "${TRAIN_STEPS:-100000}" --schedule-length 31000 --lr-scale 5 --clip 1 --ema-decay 0.999 --seed 1 --min-crop-rms 0.01 --input-noise 3 \
    --out "$run" --checkpoint-every 1000 --keep 1 --log-every 25 --eval-every 500 --eval-batches 8 \
    --json "$@" | tee -a "$run/log.jsonl" | grep --line-buffered evalLoss | sed -u "s/^/${name:-train}: /"
  return "${PIPESTATUS[0]}"
}

case "${1:-}" in
  pack) pack ;;
  run) shift; run "$@" ;;
  train) shift; train "$@" ;;
  *) echo "usage: bash bench/gpu-kit.sh pack | run OUT_DIR | train OUT_DIR SECONDS" >&2; exit 2 ;;
esac
