#!/usr/bin/env bash
# Scaling of the exact CPU engine on synthetic corpora: N = 10k, 30k, 100k
# (override with SIZES="..."), top-10 plus threshold pairs, one run each.
#
#   bench/scaling.sh BUILD_DIR [THREADS]
#
# Uses BUILD_DIR/papersim or $PAPERSIM_BIN (synth, vectorize with the default abstracts preset)
# and BUILD_DIR/bench/sim_bench (one timed self-join of the matrix). Prints a
# Markdown table: documents, non-zeros, head size, tiles, seconds (wall and
# CPU: on a shared machine CPU time is the steadier figure), pairs/s,
# engine working set, and peak RSS of the sim_bench process, with in brackets
# the peak after loading X (the Matrix Market text is held while parsing).
set -euo pipefail
build=${1:?usage: bench/scaling.sh BUILD_DIR [THREADS]}
threads=${2:-$(nproc)}
sizes=${SIZES:-"10000 30000 100000"}
threshold=${THRESHOLD:-0.8}
bin="${PAPERSIM_BIN:-$build/papersim}"
bench="$build/bench/sim_bench"
for f in "$bin" "$bench"; do
  [[ -x "$f" ]] || { echo "scaling.sh: $f is missing (build the papersim and sim_bench targets)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/papersim-scaling.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "threads: $threads, k = 10, threshold = $threshold, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo
echo "| N | non-zeros | head D | tiles | seconds | CPU seconds | pairs/s | threshold pairs | working set | peak RSS (after loading X) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for n in $sizes; do
  "$bin" synth --docs "$n" --seed 1 -o "$work/corpus.jsonl" --quiet
  "$bin" vectorize "$work/corpus.jsonl" --out-matrix "$work/x.mtx" --quiet
  json=$("$bench" --mtx "$work/x.mtx" -k 10 --threshold "$threshold" --threads "$threads" 2>/dev/null | tail -1)
  nnz=$(sed -n '/^[^%]/{p;q}' "$work/x.mtx" | awk '{print $3}')
  python3 - "$json" "$n" "$nnz" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
mib = lambda b: f"{b / 2**20:.0f} MiB"
print(f"| {int(sys.argv[2]):,} | {int(sys.argv[3]):,} | {r['head_dim']} | {r['tiles']} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | "
      f"{r['pairs_per_s']:.3g} | {r['threshold_pairs']:,} | {mib(r['working_bytes'])} | {mib(r['peak_rss'])} ({mib(r['input_peak_rss'])}) |")
EOF
  rm -f "$work"/*
done
