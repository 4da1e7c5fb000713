#!/usr/bin/env bash
# Renders per second of every corpus chat template: promptctl-render (Rust, release build, one
# long-lived Engine = cache-hit path) against Python Jinja2 under Hugging Face transformers'
# chat-template settings (template compiled once, then rendered), measured in the same run on
# this machine with interleaved samples, plus a byte-for-byte output check of both sides.
#
#   scripts/bench-render.sh            # ~2 minutes
#   BENCH_BUDGET_MS=300 scripts/bench-render.sh   # quicker, noisier
#
# Environment: PROMPTCTL_CORPUS (else ../shared/corpus), BENCH_BUDGET_MS (per template per
# side, default 1000), BENCH_SAMPLES (default 5), BENCH_COLD_BUDGET_MS (default 200),
# PYTHON (default python3), CARGO_TARGET_DIR (default target).
#
# Output: the table on stdout and in <target>/bench-render.md; Rust JSON lines
# {template, renders_per_sec, ...} in <target>/bench-render-rust.jsonl, Python ones in
# <target>/bench-render-py.jsonl. The Python side is
# skipped with a notice when jinja2 (or python) is missing; without the corpus the script
# prints a notice and exits 0. Exit status 1 if the Rust and Python renders differ.
set -euo pipefail

cd "$(dirname "$0")/.."
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BUDGET_MS=${BENCH_BUDGET_MS:-1000}
SAMPLES=${BENCH_SAMPLES:-5}
COLD_MS=${BENCH_COLD_BUDGET_MS:-200}
PYTHON=${PYTHON:-python3}
OUT="$TARGET_DIR/bench-render.md"
JOBS="$TARGET_DIR/bench-render-jobs.json"
RUST_OUT="$TARGET_DIR/bench-render-rust.jsonl"

echo "building the Rust side (release)..." >&2
cargo build --release --quiet -p promptctl-render --example render_throughput
BIN="$TARGET_DIR/release/examples/render_throughput"
mkdir -p "$TARGET_DIR"

if command -v "$PYTHON" >/dev/null 2>&1; then
    # The driver runs the Rust side as a server so that Rust and Python samples of each template
    # alternate; it skips the Python side itself if jinja2 is not importable.
    status=0
    "$PYTHON" scripts/bench_render_py.py --rust-bin "$BIN" --jobs "$JOBS" --out "$OUT" --rust-out "$RUST_OUT" \
        --py-out "$TARGET_DIR/bench-render-py.jsonl" --budget-ms "$BUDGET_MS" --cold-budget-ms "$COLD_MS" \
        --samples "$SAMPLES" || status=$?
    exit $status
fi

echo "notice: $PYTHON not found; skipping the Python side (Rust only, no output check)" >&2
"$BIN" --budget-ms "$BUDGET_MS" --cold-budget-ms "$COLD_MS" --samples "$SAMPLES" >"$RUST_OUT"
if [ ! -s "$RUST_OUT" ]; then
    exit 0 # no corpus: the program printed a notice
fi
{
    echo "# promptctl-render throughput (Python side skipped: $PYTHON not found)"
    echo
    echo "Rust: release build, one long-lived Engine (warm); cold = new Engine per render. ${BUDGET_MS} ms per template, median of ${SAMPLES} samples, renders per CPU second of the rendering thread where Linux reports it."
    echo
    echo "| template | context | Rust renders/s | Python renders/s | ratio | Rust cold renders/s | same output |"
    echo "|---|---|---:|---:|---:|---:|:---:|"
    sed -E 's/^\{"template":"([^"]*)","context":"([^"]*)","renders_per_sec":([0-9.]+).*"cold_renders_per_sec":([0-9.]+).*$/| \1 | \2 | \3 | skipped | n\/a | \4 | n\/a |/' "$RUST_OUT" |
        awk -F' [|] ' 'BEGIN{OFS=" | "} {$3=sprintf("%.0f",$3); $6=sprintf("%.0f",$6); print}'
    echo
    echo "Geometric mean ratio: n/a (Python side skipped)."
} >"$OUT"
cat "$OUT"
