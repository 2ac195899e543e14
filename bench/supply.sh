#!/usr/bin/env bash
# Model signing and scanning against the reference tools (model_signing 1.1.1, sha256sum,
# b3sum, picklescan, modelscan). Usage: bench/supply.sh [GIB] [RUNS] (default 2 GiB, 3 runs).
# Results and how to read them: docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
GIB=${1:-2}
RUNS=${2:-3}
OUT=target/bench-supply
VENV=$OUT/venv
mkdir -p "$OUT"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r bench/supply/requirements.txt 'picklescan[7z]==1.0.5' modelscan==0.8.8
command -v b3sum >/dev/null || [ -x "$OUT/tools/bin/b3sum" ] || cargo install -q b3sum --locked --root "$OUT/tools"
cargo build --release -q -p aigov
MODEL="$OUT/model-$GIB"
[ -f "$MODEL/.done" ] || python3 bench/supply/make_model.py "$MODEL" "$GIB"
CORPUS="$OUT/scan-corpus"
if [ ! -f "$CORPUS/cases.json" ]; then
    rm -rf "$CORPUS"
    "$VENV/bin/python" crates/aigov-supply/tests/supply/corpus.py "$CORPUS/cases" > "$CORPUS.json.tmp"
    mv "$CORPUS.json.tmp" "$CORPUS/cases.json"
    # The throughput corpus leaves out the broken 7z file: picklescan stops a folder scan at
    # the first archive py7zr cannot open (it is still in the per-case table).
    for i in $(seq 1 40); do
        mkdir -p "$CORPUS/bulk/$i" && cp -r "$CORPUS/cases/." "$CORPUS/bulk/$i/"
        rm -f "$CORPUS/bulk/$i/broken/archive.7z"
    done
fi
"$VENV/bin/python" bench/supply/bench.py target/release/aigov "$VENV/bin/python" "$MODEL" "$CORPUS" "$RUNS"
