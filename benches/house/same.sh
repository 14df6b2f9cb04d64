#!/usr/bin/env bash
# Runs every job with two builds of driftscope on the same inputs and compares what they write,
# file by file and byte for byte, with their exit codes: the check that a restructure changed
# no behaviour. The inputs: the sample data in data/, and a generated capture (ROWS rows, with
# a time column, a label and a prediction) that the newer build's `bench` writes.
#
#   benches/house/same.sh OLD_BIN NEW_BIN [ROWS]
#
# Build the older commit in a worktree sharing this target folder, e.g.
#   git worktree add /tmp/old COMMIT && (cd /tmp/old && CARGO_TARGET_DIR=$PWD/target cargo build --bin driftscope)
# and copy target/debug/driftscope away before building this one again. Then remove the worktree
# and `touch core/src/lib.rs` before that build: the two checkouts' crates get the same artifact
# names, and cargo can otherwise take the older core as up to date and link it into the new build.
set -u
old=$(realpath "$1") new=$(realpath "$2") rows=${3:-200000}
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
data=$work/data
"$new" bench --rows "$rows" --row-group 65536 --runs 1 --backend cpu --dir "$data" > /dev/null 2> "$work/bench.err" ||
  { cat "$work/bench.err"; exit 2; }
base=$data/baseline-$rows.parquet cur=$data/current-$rows.parquet
sample=$root/data
quality=(--problem-type BinaryClassification --label label --probability prediction)

jobs() {
  run baseline -o sample-base "$sample/baseline.parquet"
  run monitor -b sample-base -o sample-run "$sample/current.parquet"
  run monitor -b sample-base -o sample-windows --window-rows 500 "$sample/current.parquet"
  run baseline -o base "${quality[@]}" "$base"
  run monitor -b base -o run "$cur" --emf run.emf --prometheus run.prom
  run monitor -b base -o windows --window 5m --time-column event_time "$cur" --emf windows.emf --prometheus windows.prom
  run monitor -b base -o joined --window 5m --time-column event_time "$cur" --ground-truth "$cur" --id-column inference_id
  run monitor -b base -o spilled "$cur" --ground-truth "$cur" --id-column inference_id --join-memory 64KiB
  run monitor -o previous --window 5m --time-column event_time --reference previous "$cur"
  run changepoints -o changes --window 5m --time-column event_time "$cur"
  run calibrate -b base -o calibrated --window 5m --time-column event_time --false-alarm-rate 0.05 "$base"
  mkdir -p arriving && cp "$cur" arriving/part.parquet && touch -d 2026-01-01T00:00:00Z arriving/part.parquet
  run watch -b base -o watched --time-column event_time --grace 0s --settle 0s --once arriving
}

for who in old new; do
  bin=${!who}
  # The same folder for both builds, so that the paths written into the outputs agree.
  mkdir -p "$work/run" && cd "$work/run" || exit 2
  # watch takes no -q and no --backend before its own flags: its line is adapted.
  run() {
    if [ "$1" = watch ]; then
      "$bin" "$@" > /dev/null 2>> stderr.txt
    else
      "$bin" "$1" -q --backend cpu "${@:2}" > /dev/null 2>> stderr.txt
    fi
    echo "$? $*" >> codes.txt
  }
  jobs
  cd "$work" && mv run "$who"
done
cd "$work" || exit 2
files=$(cd new && find . -type f ! -name stderr.txt | sort)
same=0 differ=0
# A run without windows stamps its metrics with the time it ran: that stamp is masked.
mask() { sed -E 's/"Timestamp":[0-9]+/"Timestamp":T/g; s/(_timestamp_seconds\{[^}]*\}) [0-9.]+/\1 T/' "$1"; }
for f in $files; do
  if cmp -s "old/$f" "new/$f"; then
    same=$((same + 1))
  elif case $f in *.emf | *.prom) cmp -s <(mask "old/$f") <(mask "new/$f") ;; *) false ;; esac then
    same=$((same + 1))
    echo "same but for the time it ran: $f"
  else
    differ=$((differ + 1))
    echo "DIFFERENT: $f"
  fi
done
for f in $(cd old && find . -type f ! -name stderr.txt | sort); do
  [ -e "new/$f" ] || { differ=$((differ + 1)); echo "ONLY IN OLD: $f"; }
done
echo "exit codes:"; cat new/codes.txt
echo "$same same, $differ different"
[ "$differ" -eq 0 ]
