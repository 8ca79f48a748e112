#!/usr/bin/env bash
# Where the CPU engine's dense-queries kernel stops paying: the first Q queries
# of QUERIES against an index, for each Q in SIZES, once with the head size left
# to the engine (the dense-queries kernel up to its limit) and once with
# --head-dim 64 (the head/tail tiles the cost model otherwise picks), REPEAT
# runs each, alternating. Prints a Markdown table of the pairs seconds and the
# whole command's seconds (best of the runs) and whether the two outputs are
# byte-identical (they must be).
#
#   bench/dense_queries_crossover.sh PAPERSIM INDEX.psx QUERIES.jsonl [THREADS]
#
# SIZES (default "1 16 64 100 128 160 192 256 512") and REPEAT (default 3)
# override the defaults. The kernel's limit (kDenseQueryRows in
# host/sim/cpu_backend.cpp) comes from these figures.
set -euo pipefail
bin=${1:?usage: bench/dense_queries_crossover.sh PAPERSIM INDEX.psx QUERIES.jsonl [THREADS]}
index=${2:?index file}
queries=${3:?queries file}
threads=${4:-$(nproc)}
sizes=${SIZES:-"1 16 64 100 128 160 192 256 512"}
repeat=${REPEAT:-3}
for f in "$bin" "$index" "$queries"; do
  [[ -e "$f" ]] || { echo "dense_queries_crossover.sh: $f is missing" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/papersim-dense.XXXXXX")
trap 'rm -rf "$work"' EXIT

# "pairs total" seconds of one run (the summary's figures).
run() {
  "$bin" related "$work/q.jsonl" --index "$index" -k 10 --threads "$threads" "$@" 2>&1 |
    awk '/pairs evaluated/ {for (i = 1; i <= NF; ++i) if ($i == "in") p = $(i + 1)}
         /total time/ {t = $3} END {print p, t}'
}
best() { sort -n | head -1; }

echo "threads: $threads, k = 10, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo
echo "| queries | dense: pairs s | dense: command s | tiles (D=64): pairs s | tiles: command s | kernel chosen | outputs |"
echo "|---|---|---|---|---|---|---|"
for q in $sizes; do
  head -n "$q" "$queries" >"$work/q.jsonl"
  : >"$work/auto" && : >"$work/tiles"
  for ((i = 0; i < repeat; ++i)); do
    run -o "$work/auto.jsonl" >>"$work/auto"
    run --head-dim 64 -o "$work/tiles.jsonl" >>"$work/tiles"
  done
  summary=$("$bin" related "$work/q.jsonl" --index "$index" -k 10 --threads "$threads" \
    -o "$work/auto.jsonl" 2>&1)
  chosen=tiles
  [[ "$summary" == *"(dense queries"* ]] && chosen=dense
  same=$(cmp -s "$work/auto.jsonl" "$work/tiles.jsonl" && echo identical || echo DIFFER)
  echo "| $q | $(cut -d' ' -f1 "$work/auto" | best) | $(cut -d' ' -f2 "$work/auto" | best) |" \
    "$(cut -d' ' -f1 "$work/tiles" | best) | $(cut -d' ' -f2 "$work/tiles" | best) | $chosen | $same |"
done
