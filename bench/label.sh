#!/usr/bin/env bash
# Labelling benchmarks: implicit-label verification of 1-megapixel PNG/JPEG files (files per
# second on one core), labelling a ~1 GB MP4/MOV against copying it (time and peak memory),
# and C2PA sign/verify side by side with c2pa-python (the c2pa-rs SDK's own Python binding).
# Usage: bench/label.sh [FILES] [RUNS] (default 400 files of each kind, 3 runs);
# LABEL_BENCH_ONLY=verify runs the verification part alone.
# Results and how to read them: docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-400}
RUNS=${2:-3}
OUT=target/bench-label
VENV=$OUT/venv
mkdir -p "$OUT"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r bench/label/requirements.txt c2pa-python==0.38.1
# b3sum, the anchor for hashing every byte of the pictures.
command -v b3sum >/dev/null || [ -x "$OUT/tools/bin/b3sum" ] || cargo install -q b3sum --locked --root "$OUT/tools"
cargo build --release -q -p aigov
"$VENV/bin/python" bench/label/bench.py target/release/aigov "$VENV/bin/python" "$OUT" "$FILES" "$RUNS"
