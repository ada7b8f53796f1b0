#!/usr/bin/env bash
# Measures the default model on nsynth-subset/valid (notes of instruments it never heard) beside a
# random model of the same config and plain mu-law noise: the fraction of notes whose
# reconstruction keeps the pitch (within 50 cents), the median log-spectral distance and the
# teacher-forced bits per sample. Writes docs/default-model-eval.json and records the summary
# in weights/default/manifest.json (meta.validation).
#   tools/evaluate-default.sh [SECONDS_PER_NOTE]    (default 1: the note's attack and body)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-1}"
data="${NSYNTH_DATA:-../shared/data/nsynth-subset}/valid"
config=$(node -e "console.log(JSON.parse(require('fs').readFileSync('weights/default/manifest.json','utf8')).config.name)")
tmp=$(mktemp -d)
node bin/nsynth.js eval --data "$data" --seconds "$seconds" --json > "$tmp/default.json"
node bin/nsynth.js eval --data "$data" --seconds "$seconds" --model "random:$config" --json > "$tmp/random.json"
node bin/nsynth.js eval --data "$data" --seconds "$seconds" --model noise --json > "$tmp/noise.json"
node tools/record-validation.mjs "$tmp" "$seconds"
rm -rf "$tmp"
