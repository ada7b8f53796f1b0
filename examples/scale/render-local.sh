#!/usr/bin/env bash
# Render a jobs file on one machine: SHARDS processes of `nsynth render --shard i/SHARDS`, one per
# GPU, run together by GNU parallel where it is installed, else by `xargs -P`. Each shard writes
# its log to OUT/logs/; this script waits for all of them, says how each ended, and exits
#   0    every shard rendered all its jobs
#   1    a shard failed, or some of its jobs did (the reasons: OUT/shards/<i>-of-<N>.json)
#   130  stopped (Ctrl-C, or SIGTERM to this script): shards finish the batch in progress first
# Running the same command again resumes: finished outputs are verified and skipped.
#
#   bash examples/scale/render-local.sh [more nsynth render arguments...]
#   SHARDS=4 JOBS=grid.jsonl OUT=/data/renders bash examples/scale/render-local.sh --batch 32
#
# Environment (all optional):
#   JOBS       the jobs file (default: jobs.jsonl beside this script, the 9-note example grid)
#   OUT        the output folder (default: renders)
#   MODEL      a weights folder (default: the CLI's own, the shipped weights/default)
#   SHARDS     processes (default: one per GPU that `nvidia-smi -L` lists, else 1)
#   GPUS       GPUs to spread the shards over, shard i on GPU i mod GPUS through the CLI's
#              `--adapter gpu:N` (default: as many as `nvidia-smi -L` lists; 0: no choosing,
#              every process takes the CLI's default adapter). Not done where NSYNTH_ADAPTER is set.
#   NSYNTH     the command, split on spaces (default: `nsynth` where it is on PATH, else
#              `node <this repository>/bin/nsynth.js`)
#   ARGS       more `nsynth render` arguments, split on spaces (as are those given to the script)
#   USE_XARGS  1: use xargs -P even where GNU parallel is installed
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# One shard (the script runs itself once per shard): its log in OUT/logs, its exit status in $STATE.
if [[ ${1:-} == --one-shard ]]; then
  i=$2
  shift 2
  # Signals are for nsynth, which stops after its batch; this wrapper lives on to write its status.
  trap '' INT TERM
  read -r -a nsynth <<<"$NSYNTH"
  read -r -a args <<<"${ARGS:-}"
  pin=()
  if ((GPUS > 0)) && [[ -z ${NSYNTH_ADAPTER:-} ]]; then pin=("NSYNTH_ADAPTER=gpu:$((i % GPUS))"); fi
  model=()
  if [[ -n ${MODEL:-} ]]; then model=(--model "$MODEL"); fi
  log="$OUT/logs/local-$i-of-$SHARDS.log"
  cmd=("${nsynth[@]}" render --jobs "$JOBS" --out "$OUT" --shard "$i/$SHARDS" ${model[@]+"${model[@]}"} ${args[@]+"${args[@]}"} "$@")
  echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) ${pin[*]:-} ${cmd[*]}" >>"$log" # appended: a re-run keeps the log of the last
  rc=130 # not started: the script was told to stop first
  if [[ ! -e $STATE/stop ]]; then
    rc=0
    # In the background so that its process id can be written down for the SIGTERM handler below.
    env ${pin[@]+"${pin[@]}"} "${cmd[@]}" >>"$log" 2>&1 </dev/null &
    echo $! >"$STATE/$i.pid"
    wait $! || rc=$?
  fi
  echo "$rc" >"$STATE/$i.rc"
  exit 0 # the status is reported through $STATE, not through xargs or parallel (which fold it)
fi

if [[ -z ${GPUS:-} ]]; then
  GPUS=0
  if command -v nvidia-smi >/dev/null 2>&1; then GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true); fi
fi
if [[ -z ${SHARDS:-} ]]; then SHARDS=$((GPUS > 0 ? GPUS : 1)); fi
if ! [[ $SHARDS =~ ^[1-9][0-9]*$ && $GPUS =~ ^[0-9]+$ ]]; then
  echo "render-local: SHARDS must be a positive number and GPUS a number (SHARDS=$SHARDS GPUS=$GPUS)" >&2
  exit 2
fi
if [[ -z ${NSYNTH:-} ]]; then
  if command -v nsynth >/dev/null 2>&1; then NSYNTH=nsynth; else NSYNTH="node $here/../../bin/nsynth.js"; fi
fi
JOBS=${JOBS:-$here/jobs.jsonl}
OUT=${OUT:-renders}
mkdir -p "$OUT/logs"
STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT
export NSYNTH JOBS OUT SHARDS GPUS STATE
if [[ -n ${MODEL:-} ]]; then export MODEL; fi
if [[ -n ${ARGS:-} ]]; then export ARGS; fi

# Ctrl-C reaches every process of the terminal's group: the shards stop after the batch in
# progress, while this script, xargs and parallel (which inherit the ignoring) wait for them.
trap '' INT
# SIGTERM to this script alone (a service stop, `kill`) is passed on to every shard.
stop() {
  touch "$STATE/stop"
  for f in "$STATE"/*.pid; do
    [[ -e $f && ! -e ${f%.pid}.rc ]] && kill -TERM "$(cat "$f")" 2>/dev/null || true
  done
}
trap stop TERM

if command -v parallel >/dev/null 2>&1 && [[ ${USE_XARGS:-0} != 1 ]]; then
  how="GNU parallel"
  # --termseq: a shard that parallel itself has to stop gets SIGTERM and two minutes to finish its batch.
  launch=(parallel --will-cite --quote -j "$SHARDS" --termseq TERM,120000,KILL,25 bash "$0" --one-shard '{}' "$@" :::)
else
  how="xargs -P $SHARDS"
  launch=(xargs -P "$SHARDS" -I '{}' bash "$0" --one-shard '{}' "$@")
fi
echo "render-local: $SHARDS shards of $JOBS into $OUT with $how; logs in $OUT/logs/"
shards=()
for ((i = 0; i < SHARDS; i++)); do shards+=("$i"); done
if [[ ${launch[0]} == parallel ]]; then
  "${launch[@]}" "${shards[@]}" &
else
  printf '%s\n' "${shards[@]}" | "${launch[@]}" &
fi
runner=$!
# `wait` returns early when SIGTERM's handler runs; wait again for the shards to finish their batch.
while true; do
  wait "$runner" || true
  if ! kill -0 "$runner" 2>/dev/null; then break; fi
done

failed=0
interrupted=0
for ((i = 0; i < SHARDS; i++)); do
  rc=$(cat "$STATE/$i.rc" 2>/dev/null || echo '?')
  log="$OUT/logs/local-$i-of-$SHARDS.log"
  case $rc in
  0) echo "shard $i/$SHARDS: done" ;;
  130 | 143) # stopped by nsynth on SIGINT or SIGTERM, or by SIGTERM before nsynth was listening
    interrupted=1
    echo "shard $i/$SHARDS: stopped; run again to finish"
    ;;
  *)
    failed=1
    echo "shard $i/$SHARDS: FAILED (exit $rc); the end of $log:" >&2
    tail -n 5 "$log" 2>/dev/null | sed 's/^/  /' >&2 || true
    ;;
  esac
done
if ((failed)); then exit 1; fi
if ((interrupted)); then exit 130; fi
exit 0
