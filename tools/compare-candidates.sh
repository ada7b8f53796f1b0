#!/usr/bin/env bash
# Ranks training states against the shipped default model on what the default model is judged by:
# reconstructions of nsynth-subset/valid (instruments it never heard) that keep the note's pitch,
# their clarity and log-spectral distance, and teacher-forced bits per sample. The states are those
# that come back from a lent GPU (`TRAIN_VARIANTS=... bash bench/gpu-kit.sh train OUT S`: one
# OUT/state-NAME.tar per recipe) or any resume-state folder (training-state/default's layout).
#   tools/compare-candidates.sh [--seconds S] STATE.tar|STATE_DIR ...     (S default 0.25)
# Prints a table (and writes it, with every note, to runs/candidates/); changes nothing shipped.
# Adopting one is then: its folder over training-state/default, runs/default reseeded from it,
# tools/ship-default.mjs and tools/evaluate-default.sh (docs/training-recipe.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=0.25
if [ "${1:-}" = --seconds ]; then
  seconds=${2:?--seconds needs a value}
  shift 2
fi
[ $# -ge 1 ] || {
  echo "usage: tools/compare-candidates.sh [--seconds S] STATE.tar|STATE_DIR ..." >&2
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

evaluate() { # NAME WEIGHTS_DIR
  node bin/nsynth.js eval --data "$data/valid" --seconds "$seconds" --model "$2" --json --quiet >"$work/$1.json.partial"
  mv "$work/$1.json.partial" "$work/$1.json"
  echo "compare-candidates: $1 measured" >&2
}

# Every candidate unpacked and shipped first, so a bad one is refused before minutes of measuring.
names=(shipped)
weights=(weights/default)
for src in "$@"; do
  name=$(basename "$src" .tar)
  name=${name#state-}
  [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || {
    echo "compare-candidates: $src: a name of letters, digits, '.', '-' and '_' is needed" >&2
    exit 2
  }
  for seen in "${names[@]}"; do
    [ "$seen" != "$name" ] || {
      echo "compare-candidates: $src: a second candidate named '$name'" >&2
      exit 2
    }
  done
  state=$src
  if [ -f "$src" ]; then
    mkdir -p "$tmp/$name"
    tar -C "$tmp/$name" -xf "$src" || {
      echo "compare-candidates: $src: not a readable tar file" >&2
      exit 2
    }
    state=$(dirname "$(find "$tmp/$name" -name latest.json | head -1)")
  fi
  [ -f "$state/latest.json" ] || {
    echo "compare-candidates: $src: no resume state (latest.json) in it" >&2
    exit 2
  }
  run="$tmp/run-$name"
  mkdir -p "$run/checkpoints"
  cp -r "$state"/ckpt-* "$state/latest.json" "$run/checkpoints/"
  if [ -f "$state/log.jsonl" ]; then cp "$state/log.jsonl" "$run/log.jsonl"; fi
  node tools/ship-default.mjs "$run" "$data" "$tmp/weights-$name" >/dev/null
  names+=("$name")
  weights+=("$tmp/weights-$name")
done
for i in "${!names[@]}"; do evaluate "${names[$i]}" "${weights[$i]}"; done

node --input-type=module - "$work" "$seconds" "${names[@]}" <<'EOF' | tee "$work/table.md"
import * as fs from 'node:fs';
const [work, seconds, ...names] = process.argv.slice(2);
const rows = names.map((name) => {
  const r = JSON.parse(fs.readFileSync(`${work}/${name}.json`, 'utf8'));
  const s = r.summary;
  // r.model is the weights folder evaluated; its manifest says how far it was trained.
  const meta = JSON.parse(fs.readFileSync(`${r.model}/manifest.json`, 'utf8')).meta ?? {};
  const step = meta.steps === undefined ? '' : `${meta.steps} (batch ${meta.batch})`;
  return { name, step, s };
});
rows.sort((a, b) => b.s.within50Cents - a.s.within50Cents || b.s.medianClarity - a.s.medianClarity);
const pct = (x) => `${(100 * x).toFixed(1)}%`;
console.log(`Reconstructions of the first ${seconds} s of each note in valid/ (notes with a clear f0 in the original: ${rows[0].s.clearF0})\n`);
console.log('| candidate | step | within 50 cents | median clarity | log-spectral distance (dB) | bits per sample | pitch input saves (bits) |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const { name, step, s } of rows)
  console.log(
    `| ${name} | ${step} | ${pct(s.within50Cents)} | ${s.medianClarity.toFixed(3)} | ${s.medianLogSpectralDistance.toFixed(2)} | ${s.meanBitsPerSample.toFixed(3)} | ${s.meanPitchUseBits?.toFixed(3) ?? ''} |`,
  );
EOF
