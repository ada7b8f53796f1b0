#!/usr/bin/env bash
# Trains the shipped default model with `nsynth train` and writes weights/default from it.
# Resumable: run it again (here, another day, or on a machine with a GPU) and it continues.
#   tools/train-default.sh [TOTAL_STEPS]        (the step to stop at; default 3,000 past the newest
#                                               checkpoint; Ctrl-C checkpoints and stops)
#   RUN=runs/default            the run folder (checkpoints, log)
#   NSYNTH_DATA=../shared/data/nsynth-subset    train/ and valid/ in NSynth's JSON/WAV layout
#   CHANGE_OPTIONS=1            resume a checkpoint made with other options (a recipe change; see below)
#   SAVE_RESUME=1               afterwards, copy the newest checkpoint to training-state/default/
#                               (committed now and then, so a fresh clone can resume the run)
set -euo pipefail
cd "$(dirname "$0")/.."
run="${RUN:-runs/default}"
data="${NSYNTH_DATA:-../shared/data/nsynth-subset}"
state=training-state/default
config=h32_pitch

source tools/lib/resumable-run.sh
seed_run "$run" "$state"
# A total at or below the newest checkpoint's step trains nothing (and only ships the model again).
at=$(latest_step "$run")
[ "$at" -ge 0 ] || at=0
steps="${1:-$((at + 3000))}"
[ "$steps" -gt "$at" ] || echo "$(basename "$0"): the run is at step $at already: nothing to train for a total of $steps" >&2
resume=()
if [ -e "$run/checkpoints/latest.json" ]; then
  resume=(--resume)
  if [ "${CHANGE_OPTIONS:-0}" = 1 ]; then resume+=(--change-options); fi
fi

# The schedule spans a fixed length whatever TOTAL_STEPS is, so stopping and extending a run keep one
# trajectory (20k steps until step 28,672, then refitted to 31k: a restart at 1e-4 that anneals to
# its 1e-5 floor from step 37,200; recorded in the checkpoints' recipeChanges); --lr-scale 5 (Adam
# at 1e-3) and clipping at norm 1 suit a small model's short run.
node bin/nsynth.js train --config "$config" --data "$data/train" --eval-data "$data/valid" \
  --steps "$steps" --schedule-length 31000 --lr-scale 5 --clip 1 --ema-decay 0.999 --seed 1 --min-crop-rms 0.01 --input-noise 3 \
  --out "$run" --checkpoint-every 25 --keep 1 --log-every 5 --eval-every 50 --eval-batches 8 \
  --json "${resume[@]}" | tee -a "$run/log.jsonl" || [ "${PIPESTATUS[0]}" = 130 ] # 130: Ctrl-C, checkpointed

node tools/ship-default.mjs "$run" "$data"
if [ "${SAVE_RESUME:-0}" = 1 ]; then save_state "$run" "$state"; fi
