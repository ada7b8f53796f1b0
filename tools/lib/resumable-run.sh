# Shared by tools/train-default.sh and tools/train-baseline.sh: a training run that a fresh clone can
# continue. The newest checkpoint (and the log) is kept in training-state/<name>/, committed now and
# then; a run folder without checkpoints is seeded from it.

# seed_run RUN STATE: copy STATE's checkpoint and log into RUN unless RUN already has checkpoints.
seed_run() {
  local run="$1" state="$2"
  mkdir -p "$run"
  if [ ! -e "$run/checkpoints/latest.json" ] && [ -e "$state/latest.json" ]; then
    echo "$(basename "$0"): seeding $run from $state"
    mkdir -p "$run/checkpoints"
    cp -r "$state"/ckpt-* "$state/latest.json" "$run/checkpoints/"
    cp "$state/log.jsonl" "$run/log.jsonl"
  fi
}

# latest_step RUN: the step of RUN's newest checkpoint (-1 where it has none).
latest_step() {
  node -e 'try { console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).step ?? -1) } catch { console.log(-1) }' \
    "$1/checkpoints/latest.json"
}

# save_state RUN STATE: replace STATE with RUN's newest checkpoint and its log (non-zero status, and
# a message, when any of it fails).
save_state() {
  local run="$1" state="$2" latest
  latest=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$run/checkpoints/latest.json','utf8')).dir)") &&
    [ -d "$run/checkpoints/$latest" ] &&
    rm -rf "$state" &&
    mkdir -p "$state" &&
    cp -r "$run/checkpoints/$latest" "$run/checkpoints/latest.json" "$state/" &&
    cp "$run/log.jsonl" "$state/log.jsonl" || {
    echo "$(basename "$0"): could not save $run's newest checkpoint to $state" >&2
    return 1
  }
  echo "$(basename "$0"): resume state in $state ($(du -sh "$state" | cut -f1))"
}
