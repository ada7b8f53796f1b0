#!/usr/bin/env bash
# Trains each candidate config for the default model for the same wall-clock time on
# nsynth-subset/train, evaluating teacher-forced NLL on nsynth-subset/valid as it goes, then
# writes the comparison (docs/model-choice.md and docs/model-choice.png) with tools/model-choice-report.mjs.
#   tools/model-choice.sh [MINUTES_EACH] [RUN_DIR]
# Each run stops by Ctrl-C (SIGINT) at its time, which checkpoints it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-5}"
runs="${2:-runs/model-choice}"
data="${NSYNTH_DATA:-../shared/data/nsynth-subset}"
candidates="${CANDIDATES:-h32_pitch h64_pitch h64 h96_pitch}"
mkdir -p "$runs"
for c in $candidates; do
  rm -rf "${runs:?}/$c"
  echo "== $c: ${minutes} min"
  timeout -s INT "${minutes}m" node bin/nsynth.js train --config "$c" --data "$data/train" --eval-data "$data/valid" \
    --steps 100000 --schedule-length 100000 --lr-scale 5 --clip 1 --ema-decay 0.999 --seed 1 \
    --out "$runs/$c" --checkpoint-every 1000 --log-every 5 --eval-every 15 --eval-batches 6 --json --quiet \
    > "$runs/$c.jsonl" || true
done
node tools/model-choice-report.mjs "$runs" $candidates
