#!/usr/bin/env bash
# Writes docs/eval/: the paper's three experiments for the shipped default WaveNet and the shipped
# spectrogram baseline (and mu-law noise) on a spread of the validation notes (every 10th of 80:
# all five held-out instruments), with rainbowgrams and audio.
#   tools/eval-report.sh [GRIFFIN_LIM_ROUNDS]     (default 1000, as the paper)
#   NSYNTH_DATA=../shared/data/nsynth-subset
set -euo pipefail
cd "$(dirname "$0")/.."
data="${NSYNTH_DATA:-../shared/data/nsynth-subset}"
node bin/nsynth.js eval --data "$data/valid" --stride 10 --seconds 4 --pictures 2 \
  --model weights/default --model weights/baseline-small --griffin-lim "${1:-1000}" --out docs/eval
