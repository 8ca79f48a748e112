#!/usr/bin/env bash
# Per-rank pair rates and ring traffic of distributed runs on the 20,000-row
# arxiv-daily sample: `related -k 10` and `duplicates` (both a half ring)
# under mpirun -np 1, 2, 3, 4, one thread per rank. Prints the runs' per-rank
# lines (papersim's summary) for bench/results/.
# Usage: bench/mpi_ring.sh BIN DATA_DIR WORK
set -euo pipefail
bin=$1 data=$2 work=$3
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
sample=$work/arxiv-20k.jsonl
[[ -s $sample ]] || { { xz -dc "$data/arxiv-daily/arxiv-daily.jsonl.xz" || true; } | head -n 20000 >"$sample"; }
for cmd in "related -k 10" "duplicates"; do
  for p in 1 2 3 4; do
    echo "### $cmd, -np $p"
    mpirun --oversubscribe -np "$p" "$bin" $cmd "$sample" --threads 1 -o "$work/out.$p" 2>&1 |
      grep -E "ring join|rank [0-9]|pairs evaluated|total time|backend  "
  done
done
