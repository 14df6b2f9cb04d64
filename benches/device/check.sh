#!/usr/bin/env bash
# The device check, in one call: what a machine's GPU gives driftscope, with the CPU measured in
# the same run. Logs go to $OUT (or ./device-out).
#
#   cargo build --release && bash ../shared/device/prepare.sh     # here: fills .device/
#   bash benches/device/check.sh                                  # there, in the project root
#
# ROWS (default 20,000,000) sizes the generated capture; BIN overrides the binary (for a dry run
# on a machine without .device/, e.g. BIN=$PWD/target/release/driftscope ROWS=300000 on lavapipe).
# Steps, each logged apart so that a timeout still leaves the earlier ones:
#   1. devices: the adapters wgpu finds (probe.sh also prints the Vulkan set-up it found);
#   2. parity: baseline + monitor, plain and with --window 15m, on --backend cpu and gpu:
#      every output file compared byte for byte (drift.json's backend name aside);
#   3. bench: decode, profile, compare and monitor per backend, plain and windowed.
set -u
OUT=${OUT:-device-out}
mkdir -p "$OUT"
ROWS=${ROWS:-20000000}
if [ -n "${BIN:-}" ]; then
  run() { "$BIN" "$@"; }
else
  run() { bash .device/probe.sh .device/driftscope "$@"; }
fi
DATA=${DATA:-$(mktemp -d)}
echo "rows=$ROWS data=$DATA" | tee "$OUT/summary.txt"

run devices > "$OUT/devices.txt" 2>&1
echo "devices: exit $?" | tee -a "$OUT/summary.txt"

# The bench writes the captures (baseline and drifted current) that the parity step reuses.
run bench --rows "$ROWS" --row-group 1048576 --runs 3 --backend all --window 1h --dir "$DATA" \
  > "$OUT/bench.md" 2> "$OUT/bench.err"
echo "bench: exit $?" | tee -a "$OUT/summary.txt"

base=$DATA/baseline-$ROWS.parquet
cur=$DATA/current-$ROWS.parquet
here=$(pwd)
for b in cpu gpu; do
  # Relative output paths, so that the paths written into the reports agree.
  mkdir -p "$DATA/p-$b"
  (
    cd "$DATA/p-$b" || exit 1
    if [ -z "${BIN:-}" ]; then run() { bash "$here/.device/probe.sh" "$here/.device/driftscope" "$@"; }; fi
    run baseline -q --backend "$b" -o base "$base"
    run monitor -q --backend "$b" -b base -o run "$cur"
    run monitor -q --backend "$b" --time-column event_time --window 15m -b base -o windows "$cur"
  ) >> "$OUT/parity.log" 2>&1
done
{
  for f in base/statistics.json base/constraints.json base/profile.json run/statistics.json \
    run/constraint_violations.json run/profile.json windows/windows.csv windows/changepoints.json \
    windows/statistics.json; do
    if cmp -s "$DATA/p-cpu/$f" "$DATA/p-gpu/$f"; then echo "same: $f"; else echo "DIFFERENT: $f"; fi
  done
  for f in run/drift.json windows/drift.json; do
    if cmp -s <(grep -v '"backend"' "$DATA/p-cpu/$f") <(grep -v '"backend"' "$DATA/p-gpu/$f"); then
      echo "same (backend aside): $f"
    else
      echo "DIFFERENT: $f"
    fi
  done
  grep -h '"backend"' "$DATA/p-cpu/run/drift.json" "$DATA/p-gpu/run/drift.json"
} > "$OUT/parity.txt" 2>&1
cat "$OUT/parity.txt" >> "$OUT/summary.txt"
cat "$OUT/summary.txt"
