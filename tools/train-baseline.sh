#!/usr/bin/env bash
# Trains the spectrogram baseline shipped beside the default model (weights/baseline-small), so the
# evaluation report can compare the two as the paper does. Resumable like tools/train-default.sh.
#   tools/train-baseline.sh [TOTAL_STEPS]       (default 2000; Ctrl-C checkpoints and stops)
#   RUN=runs/baseline-small     the run folder
#   NSYNTH_DATA=../shared/data/nsynth-subset
#   SAVE_RESUME=1               afterwards, copy the newest checkpoint to training-state/baseline-small/
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-2000}"
run="${RUN:-runs/baseline-small}"
data="${NSYNTH_DATA:-../shared/data/nsynth-subset}"
state=training-state/baseline-small

source tools/lib/resumable-run.sh
seed_run "$run" "$state"
resume=()
if [ -e "$run/checkpoints/latest.json" ]; then resume=(--resume); fi

# Whole 4-second notes, batch 8 (the paper's); Adam at 1e-3 on the stretched schedule, as the default model.
node bin/nsynth.js train --arch baseline --config baseline_small --data "$data/train" --eval-data "$data/valid" \
  --steps "$steps" --batch 8 --schedule-length 20000 --lr-scale 5 --clip 1 --ema-decay 0.999 --seed 1 \
  --out "$run" --checkpoint-every 25 --keep 1 --log-every 5 --eval-every 50 --eval-batches 2 \
  --json "${resume[@]}" | tee -a "$run/log.jsonl" || [ "${PIPESTATUS[0]}" = 130 ] # 130: Ctrl-C, checkpointed

node tools/ship-default.mjs "$run" "$data" weights/baseline-small
if [ "${SAVE_RESUME:-0}" = 1 ]; then save_state "$run" "$state"; fi
