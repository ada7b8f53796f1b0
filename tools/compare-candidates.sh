#!/usr/bin/env bash
# Ranks training states against the shipped default model on what the default model is judged by:
# reconstructions of nsynth-subset/valid (instruments it never heard) that keep the note's pitch,
# their clarity and log-spectral distance, and teacher-forced bits per sample. The states are those
# that come back from a lent GPU (`TRAIN_VARIANTS=... bash bench/gpu-kit.sh train OUT S`: one
# OUT/state-NAME.tar per recipe) or any resume-state folder (training-state/default's layout).
#   tools/compare-candidates.sh [--seconds S] [--seeds 0,1,2] STATE.tar|STATE_DIR ...
#     S: seconds of each note (default 0.25); --seeds: sampling seeds, one reconstruction of every
#     note each (default 0): one draw moves the count within 50 cents by a note or two, so ranking
#     close candidates wants several; they are ranked by the mean.
# Prints a table (and writes it, with every note, to runs/candidates/); changes nothing shipped.
# Adopting one is then: its folder over training-state/default, runs/default reseeded from it,
# tools/ship-default.mjs and tools/evaluate-default.sh (docs/training-recipe.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=0.25
seeds=0
while [ "${1:-}" = --seconds ] || [ "${1:-}" = --seeds ]; do
  case $1 in
    --seconds) seconds=${2:?--seconds needs a value} ;;
    --seeds) seeds=${2:?--seeds needs a value} ;;
  esac
  shift 2
done
[[ $seeds =~ ^[0-9]+(,[0-9]+)*$ ]] || {
  echo "compare-candidates: --seeds takes whole numbers separated by commas (got '$seeds')" >&2
  exit 2
}
[ $# -ge 1 ] || {
  echo "usage: tools/compare-candidates.sh [--seconds S] [--seeds 0,1,2] STATE.tar|STATE_DIR ..." >&2
  exit 2
}
data="${NSYNTH_DATA:-../shared/data/nsynth-subset}"
[ -f "$data/valid/examples.json" ] || {
  echo "compare-candidates: $data/valid/examples.json not found (set NSYNTH_DATA)" >&2
  exit 2
}
work=runs/candidates
mkdir -p "$work"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

evaluate() { # NAME WEIGHTS_DIR: 0 when measured with every seed (NAME.json: the first seed's, every note)
  local seed first=1
  for seed in ${seeds//,/ }; do
    node bin/nsynth.js eval --data "$data/valid" --seconds "$seconds" --model "$2" --seed "$seed" --json --quiet \
      >"$work/$1.seed$seed.json.partial" && mv "$work/$1.seed$seed.json.partial" "$work/$1.seed$seed.json" || return 1
    if [ $first = 1 ]; then cp "$work/$1.seed$seed.json" "$work/$1.json"; fi
    first=0
  done
  echo "compare-candidates: $1 measured (seeds $seeds)" >&2
}
skip() { # SOURCE WHY: a candidate left out (the others are still compared)
  echo "compare-candidates: $1: $2; left out" >&2
}

# Every candidate unpacked and shipped first, so a bad one is known before minutes of measuring.
names=(shipped)
weights=(weights/default)
for src in "$@"; do
  name=$(basename "$src" .tar)
  name=${name#state-}
  if ! [[ $name =~ ^[A-Za-z0-9_.-]+$ ]]; then
    skip "$src" "a name of letters, digits, '.', '-' and '_' is needed"
    continue
  fi
  if [[ " ${names[*]} " == *" $name "* ]]; then
    skip "$src" "the name '$name' is taken ('shipped' is the shipped model)"
    continue
  fi
  state=$src
  if [ -f "$src" ]; then
    mkdir -p "$tmp/$name"
    if ! tar -C "$tmp/$name" -xf "$src" 2>/dev/null; then
      skip "$src" "not a readable tar file"
      continue
    fi
    # The shallowest latest.json: a tar of a whole run folder has one in checkpoints/ only.
    state=$(find "$tmp/$name" -name latest.json -printf '%d %h\n' | sort -n | head -1 | cut -d' ' -f2-)
  fi
  if [ -z "$state" ] || [ ! -f "$state/latest.json" ] || ! compgen -G "$state/ckpt-*" >/dev/null; then
    skip "$src" "no resume state in it (latest.json and a ckpt-* folder; a variant that failed returns none)"
    continue
  fi
  if [ -f "$state/status.json" ]; then echo "compare-candidates: $name: $(cat "$state/status.json")" >&2; fi
  run="$tmp/run-$name"
  mkdir -p "$run/checkpoints"
  cp -r "$state"/ckpt-* "$state/latest.json" "$run/checkpoints/"
  if [ -f "$state/log.jsonl" ]; then cp "$state/log.jsonl" "$run/log.jsonl"; fi
  if ! node tools/ship-default.mjs "$run" "$data" "$tmp/weights-$name" >/dev/null; then
    skip "$src" "its checkpoint did not load"
    continue
  fi
  names+=("$name")
  weights+=("$tmp/weights-$name")
done
measured=()
for i in "${!names[@]}"; do
  if evaluate "${names[$i]}" "${weights[$i]}"; then measured+=("${names[$i]}"); else skip "${names[$i]}" "nsynth eval failed"; fi
done
[ ${#measured[@]} -gt 0 ] || exit 1

node --input-type=module - "$work" "$seconds" "$seeds" "${measured[@]}" <<'EOF' | tee "$work/table.md"
import * as fs from 'node:fs';
const [work, seconds, seedList, ...names] = process.argv.slice(2);
const seeds = seedList.split(',');
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rows = names.map((name) => {
  const runs = seeds.map((seed) => JSON.parse(fs.readFileSync(`${work}/${name}.seed${seed}.json`, 'utf8')));
  const s = runs.map((r) => r.summary);
  // runs[0].model is the weights folder evaluated; its manifest says how far it was trained.
  const meta = JSON.parse(fs.readFileSync(`${runs[0].model}/manifest.json`, 'utf8')).meta ?? {};
  const step = meta.steps === undefined ? '' : `${meta.steps} (batch ${meta.batch})`;
  // Bits and the pitch input's use are teacher-forced: the same for every seed.
  return {
    name,
    step,
    clearF0: s[0].clearF0,
    within: s.map((x) => Math.round(x.within50Cents * x.clearF0)),
    within50Cents: mean(s.map((x) => x.within50Cents)),
    clarity: mean(s.map((x) => x.medianClarity)),
    lsd: mean(s.map((x) => x.medianLogSpectralDistance)),
    bits: s[0].meanBitsPerSample,
    pitchUse: s[0].meanPitchUseBits,
  };
});
rows.sort((a, b) => b.within50Cents - a.within50Cents || b.clarity - a.clarity);
const pct = (x) => `${(100 * x).toFixed(1)}%`;
console.log(
  `Reconstructions of the first ${seconds} s of each note in valid/ (notes with a clear f0 in the original: ${rows[0].clearF0}); ` +
    `${seeds.length === 1 ? `one sampled reconstruction a note (seed ${seeds[0]}), so a note or two either way is within the noise` : `one sampled reconstruction a note for each of the seeds ${seeds.join(', ')}; clarity and distance are means over them`}\n`,
);
console.log(
  '| candidate | step | within 50 cents (mean) | notes within 50 cents, each seed | median clarity | log-spectral distance (dB) | bits per sample | pitch input saves (bits) |',
);
console.log('|---|---:|---:|---|---:|---:|---:|---:|');
for (const r of rows)
  console.log(
    `| ${r.name} | ${r.step} | ${pct(r.within50Cents)} | ${r.within.join(', ')} | ${r.clarity.toFixed(3)} | ${r.lsd.toFixed(2)} | ${r.bits.toFixed(3)} | ${r.pitchUse?.toFixed(3) ?? ''} |`,
  );
EOF
