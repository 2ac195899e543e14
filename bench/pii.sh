#!/usr/bin/env bash
# PII scanner benchmark: aigov against Microsoft Presidio (regex recognizers) on one labelled
# Chinese/English JSONL corpus. Prints MB/s per core for both, the ratio, scaling to 2
# threads, peak memory on a multi-GB stream, and precision/recall per entity type for both on
# the same slice. Results go in docs/performance.md.
#
#   bench/pii.sh [MB_FOR_AIGOV] [MB_FOR_PRESIDIO] [GB_STREAM]    (defaults 300 2 5)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-300}
PMB=${2:-2}
GB=${3:-5}
work=${BENCH_DIR:-target/bench-pii}
mkdir -p "$work"
venv="$work/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r bench/pii/requirements.txt presidio-analyzer==2.2.366
fi
py="$venv/bin/python"
cargo build --release -q -p aigov
aigov=target/release/aigov

for kind in prose dense; do
  corpus="$work/$kind.jsonl"
  if [ ! -s "$corpus" ]; then
    extra=""
    [ "$kind" = prose ] && extra="--prose --filler 4"
    echo "generating a ${MB} MB $kind corpus..."
    "$py" bench/pii/corpus.py --target-bytes $((MB * 1000000)) --seed 42 --density 0.5 $extra \
      --out "$corpus" --labels "$work/$kind.labels.jsonl"
  fi
  bytes=$(stat -c %s "$corpus")
  echo "== $kind corpus: $((bytes / 1000000)) MB"
  declare -A rate cpu
  for t in 1 2; do
    # Wall time, and CPU time (user + system) for MB per CPU-second: the per-core figure.
    # A fresh findings file each time: truncating the previous run's costs system time.
    rm -f "$work/$kind.aigov.t$t.jsonl"
    /usr/bin/time -f "%e %U %S" -o "$work/time" \
      "$aigov" pii scan "$corpus" --threads $t -q --findings "$work/$kind.aigov.t$t.jsonl" > /dev/null
    read -r wall user sys < "$work/time"
    rate[$t]=$(echo "$bytes / 1000000 / $wall" | bc -l)
    cpu[$t]=$(echo "$bytes / 1000000 / ($user + $sys)" | bc -l)
    printf 'aigov --threads %s: %.1f MB/s wall, %.1f MB per CPU-second\n' "$t" "${rate[$t]}" "${cpu[$t]}"
  done
  printf 'scaling to 2 threads: %.2fx\n' "$(echo "${rate[2]} / ${rate[1]}" | bc -l)"
  # Every thread (reader, scanner, reporter) on one core: the per-core figure as wall time.
  rm -f "$work/$kind.aigov.pinned.jsonl"
  /usr/bin/time -f "%e" -o "$work/time" taskset -c 0 \
    "$aigov" pii scan "$corpus" --threads 1 -q --findings "$work/$kind.aigov.pinned.jsonl" > /dev/null
  read -r wall < "$work/time"
  pinned=$(echo "$bytes / 1000000 / $wall" | bc -l)
  printf 'aigov on one core (taskset -c 0, --threads 1): %.1f MB/s\n' "$pinned"
  # Scaling from one core to two: the run above against --threads 2 on both cores (with one
  # scanning thread the reader and reporter already use part of the second core, so the
  # threads-1-to-2 ratio above understates what a second core adds).
  printf 'scaling from one core to two (--threads 2 on both): %.2fx\n' "$(echo "${rate[2]} / $pinned" | bc -l)"
  echo "scanner core alone (no IO, JSON or output; each line scanned as one string):"
  cargo run --release -q -p aigov-pii --example scan_only "$corpus" 3 | tail -1
  cmp -s "$work/$kind.aigov.t1.jsonl" "$work/$kind.aigov.t2.jsonl" && echo "same findings with 1 and 2 threads"
  # Presidio on a slice (the first PMB megabytes of whole records); aigov on the same slice
  # for the accuracy comparison.
  head -c $((PMB * 1000000)) "$corpus" | head -n -1 > "$work/$kind.slice.jsonl"
  records=$(wc -l < "$work/$kind.slice.jsonl")
  pmbs=$("$py" bench/pii/presidio_scan.py "$work/$kind.slice.jsonl" "$work/$kind.presidio.jsonl")
  printf 'presidio (regex recognizers, 1 core): %.3f MB/s\n' "$pmbs"
  printf 'aigov (MB per CPU-second) / presidio per core: %.0fx\n' "$(echo "${cpu[1]} / $pmbs" | bc -l)"
  "$aigov" pii scan "$work/$kind.slice.jsonl" --threads 1 -q --findings "$work/$kind.aigov.slice.jsonl" > /dev/null
  echo "-- aigov on the slice ($records records)"
  "$py" bench/pii/evaluate.py "$work/$kind.labels.jsonl" "$work/$kind.aigov.slice.jsonl" "$records"
  echo "-- presidio on the slice"
  "$py" bench/pii/evaluate.py "$work/$kind.labels.jsonl" "$work/$kind.presidio.jsonl" "$records"
done

# Peak memory on a GB_STREAM-GB stream (the prose corpus repeated, through stdin).
corpus="$work/prose.jsonl"
bytes=$(stat -c %s "$corpus")
n=$(( (GB * 1000000000 + bytes - 1) / bytes ))
echo "== ${GB} GB stream ($n copies of the prose corpus through stdin, 2 threads)"
/usr/bin/time -f "peak RSS %M KB, %e s" bash -c "for i in \$(seq $n); do cat '$corpus'; done | '$aigov' pii scan - --format jsonl --threads 2 -q > /dev/null"
