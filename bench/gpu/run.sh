#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: the GPU tests, the parity checks on real
# abstracts, the kernel benchmarks and the end-to-end benchmark, in one go.
# Writes bench/results/gpu-<device>-<date>.md (device, driver, commit, figures)
# and, when $OUT is set, a copy there.
#
#   bench/gpu/run.sh [BIN_DIR]
#
# BIN_DIR: a build directory configured with -DPAPERSIM_WITH_CUDA=ON (default
# build-cuda; ctest runs its gpu label), or a folder holding tests/ and bench/
# executables built elsewhere (they are then run directly).
# Environment: PAPERSIM_DATA_DIR (default ../shared/data), PYTHON (a python3
# with scikit-learn, for make_inputs.py), INPUTS_DIR (where made inputs go,
# default $BIN_DIR/gpu-inputs), E2E_N (default 1000000), CPU_N (default
# 100000), COMMIT (when the tree has no .git), KERNEL_FILTER (a
# --benchmark_filter for the kernel benchmarks, default all), E2E_CLASSIC=1
# (also time E2E_N with the per-row shared-memory tail, and with the earlier
# engine: per-tile select-merge and transpose, atomic tail, for comparison).
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build-cuda}
DATA=${PAPERSIM_DATA_DIR:-../shared/data}
PY=${PYTHON:-python3}
INPUTS=${INPUTS_DIR:-$BIN/gpu-inputs}
E2E_N=${E2E_N:-1000000}
CPU_N=${CPU_N:-100000}
KERNEL_FILTER=${KERNEL_FILTER:-.}
COMMIT=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
mkdir -p "$INPUTS" bench/results
log=$(mktemp)
section() { printf '\n## %s\n\n```\n' "$1" >>"$log"; }
endsection() { printf '```\n' >>"$log"; }
run_step() {  # run_step TITLE TIMEOUT_S CMD...
  local title=$1 limit=$2
  shift 2
  echo "== $title" >&2
  section "$title"
  local t0=$SECONDS
  timeout "$limit" "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  echo "(exit $rc, $((SECONDS - t0)) s)" | tee -a "$log"
  endsection
  # Keep what is done so far, should a later step be cut off.
  cp "$log" "$result"
  if [ -n "${OUT:-}" ]; then cp "$log" "$OUT/$(basename "$result")"; fi
  return 0
}

gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
name=$(echo "${gpu%%,*}" | tr 'A-Z ' 'a-z-' | sed 's/[^a-z0-9-]//g; s/^nvidia-//')
result=bench/results/gpu-${name:-unknown}-$(date -u +%Y%m%d).md
{
  echo "# papersim CUDA backend on ${gpu%%,*}"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- commit: $COMMIT"
  echo "- device, driver, memory: $gpu"
  echo "- CUDA runtime: $(nvcc --version 2>/dev/null | tail -1 || echo n/a)"
  echo "- host: $(nproc) cores"
} >"$log"

# Real-text inputs for the parity checks and the benchmark.
parity=""
[ -f "$INPUTS/seeds.mtx" ] || "$PY" bench/gpu/make_inputs.py seeds "$DATA/seeds" "$INPUTS/seeds.mtx"
[ -f "$INPUTS/seeds.mtx" ] && parity="$INPUTS/seeds.mtx"
if [ ! -f "$INPUTS/arxiv.csrbin" ] && [ -f "$DATA/arxiv-daily/arxiv-daily.jsonl.xz" ]; then
  "$PY" bench/gpu/make_inputs.py arxiv "$DATA/arxiv-daily/arxiv-daily.jsonl.xz" "$INPUTS/arxiv.csrbin"
fi
[ -f "$INPUTS/arxiv.csrbin" ] && parity="$parity:$INPUTS/arxiv.csrbin"
export PAPERSIM_GPU_PARITY_MTX=$parity PAPERSIM_DATA_DIR=$DATA

if [ -f "$BIN/CTestTestfile.cmake" ]; then
  run_step "GPU tests (ctest -L gpu)" 400 ctest --test-dir "$BIN" -L gpu --output-on-failure
else
  for t in "$BIN"/tests/gpu_*_test; do run_step "GPU tests: $(basename "$t")" 200 "$t"; done
fi
run_step "End to end: synthetic N=200000 (top-10 + threshold 0.9)" 60 "$BIN/bench/e2e_bench" --n 200000 --cpu-n 0
run_step "End to end: synthetic N=$E2E_N (top-10 + threshold 0.9; CPU backend on N=$CPU_N for the speed-up)" 180 \
  "$BIN/bench/e2e_bench" --n "$E2E_N" --cpu-n "$CPU_N"
if [ "${E2E_CLASSIC:-0}" = 1 ]; then
  run_step "End to end: synthetic N=$E2E_N, tail by per-row shared-memory sums (--cuda-tail rows)" 180 \
    "$BIN/bench/e2e_bench" --n "$E2E_N" --cpu-n 0 --cuda-tail rows
  run_step "End to end: synthetic N=$E2E_N, the earlier engine (--cuda-select classic --cuda-tail atomic)" 180 \
    "$BIN/bench/e2e_bench" --n "$E2E_N" --cpu-n 0 --cuda-select classic --cuda-tail atomic
fi
if [ -f "$INPUTS/arxiv.csrbin" ]; then
  run_step "End to end: arxiv-daily distinct abstracts (top-10 + threshold 0.9; CPU backend on the same matrix)" 120 \
    "$BIN/bench/e2e_bench" --matrix "$INPUTS/arxiv.csrbin" --cpu-n 1000000000
fi
# Last: the least needed, should the machine's time run out.
run_step "Kernel benchmarks" 150 "$BIN/bench/kernels_bench" --benchmark_min_time=0.2 \
  --benchmark_filter="$KERNEL_FILTER"

cp "$log" "$result"
echo "wrote $result" >&2
if [ -n "${OUT:-}" ]; then cp "$result" "$OUT/"; fi
