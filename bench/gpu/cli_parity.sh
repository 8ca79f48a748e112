#!/usr/bin/env bash
# CLI-level checks on a GPU machine: `papersim` with --backend cuda must write
# byte-identical outputs to --backend cpu (seeds, arxiv-daily), and the
# end-to-end times of the main jobs. Prints a markdown section on stdout.
#
# usage: bench/gpu/cli_parity.sh PAPERSIM_BIN DATA_DIR [WORK_DIR]
#   DATA_DIR holds seeds/ and arxiv-daily/ (../shared/data); missing parts are skipped.
set -uo pipefail
bin=$1
data=$2
work=${3:-$(mktemp -d)}
mkdir -p "$work"
fail=0

run_timed() {  # label, command...
  local label=$1
  shift
  local t0 t1
  t0=$(date +%s%N)
  "$@" 2>"$work/err.txt"
  local rc=$?
  t1=$(date +%s%N)
  local ms=$(((t1 - t0) / 1000000))
  printf '| %s | %d.%03d s | rc %d |\n' "$label" $((ms / 1000)) $((ms % 1000)) "$rc"
  [ $rc -eq 0 ] || { sed 's/^/    /' "$work/err.txt"; fail=1; }
}

same() {  # label, file a, file b
  if cmp -s "$2" "$3"; then
    echo "- $1: identical ($(wc -l <"$2") lines)"
  else
    echo "- $1: **DIFFERENT**"
    diff <(head -c 2000000 "$2") <(head -c 2000000 "$3") | head -n 10 | sed 's/^/    /'
    fail=1
  fi
}

echo "## papersim CLI on the GPU machine"
echo
echo '```'
"$bin" info
echo '```'
echo
echo "| run | wall | status |"
echo "|---|---|---|"
seeds=()
[ -d "$data/seeds" ] && seeds=("$data"/seeds/*.txt)
arxiv="$data/arxiv-daily/arxiv-daily.jsonl.xz"
if [ ${#seeds[@]} -gt 0 ]; then
  for b in cpu cuda; do
    run_timed "seeds duplicates --backend $b" "$bin" duplicates "${seeds[@]}" --backend "$b" -q -o "$work/seeds_pairs_$b.jsonl" --clusters "$work/seeds_clusters_$b.jsonl"
    run_timed "seeds related -k 10 --backend $b" "$bin" related "${seeds[@]}" -k 10 --backend "$b" -q -o "$work/seeds_related_$b.jsonl"
  done
fi
if [ -f "$arxiv" ]; then
  xz -dc "$arxiv" >"$work/arxiv.jsonl"
  for b in cpu cuda; do
    run_timed "arxiv-daily (120,405 rows) duplicates --backend $b" "$bin" duplicates "$work/arxiv.jsonl" --backend "$b" -q -o "$work/arxiv_pairs_$b.jsonl"
    run_timed "arxiv-daily related -k 10 --backend $b" "$bin" related "$work/arxiv.jsonl" -k 10 --backend "$b" -q -o "$work/arxiv_related_$b.jsonl"
    run_timed "arxiv-daily related -k 100 --backend $b" "$bin" related "$work/arxiv.jsonl" -k 100 --backend "$b" -q -o "$work/arxiv_related100_$b.jsonl"
  done
fi
run_timed "synth --docs 1000000" "$bin" synth --docs 1000000 --seed 3 -q -o "$work/synth1m.jsonl"
run_timed "related synth 1M -k 10 --backend cuda (read + tf-idf + pairs + output)" "$bin" related "$work/synth1m.jsonl" -k 10 --backend cuda -o "$work/synth1m_related.jsonl"
grep -E "read / vectorize|pairs evaluated|peak memory|total time|backend" "$work/err.txt" | sed 's/^/    /'
run_timed "related synth 1M -k 10 --backend cuda --head-dim 1024" "$bin" related "$work/synth1m.jsonl" -k 10 --backend cuda --head-dim 1024 -o "$work/synth1m_related_d1024.jsonl"
grep -E "pairs evaluated|total time|backend" "$work/err.txt" | sed 's/^/    /'
same "synth 1M related, default D vs D=1024" "$work/synth1m_related.jsonl" "$work/synth1m_related_d1024.jsonl"
run_timed "duplicates synth 1M --backend cuda" "$bin" duplicates "$work/synth1m.jsonl" --backend cuda -o "$work/synth1m_pairs.jsonl"
grep -E "pairs evaluated|duplicate pairs|total time" "$work/err.txt" | sed 's/^/    /'
echo
echo "### CPU vs CUDA outputs"
if [ ${#seeds[@]} -gt 0 ]; then
  same "seeds pairs" "$work/seeds_pairs_cpu.jsonl" "$work/seeds_pairs_cuda.jsonl"
  same "seeds clusters" "$work/seeds_clusters_cpu.jsonl" "$work/seeds_clusters_cuda.jsonl"
  same "seeds related k=10" "$work/seeds_related_cpu.jsonl" "$work/seeds_related_cuda.jsonl"
fi
if [ -f "$arxiv" ]; then
  same "arxiv-daily pairs" "$work/arxiv_pairs_cpu.jsonl" "$work/arxiv_pairs_cuda.jsonl"
  same "arxiv-daily related k=10" "$work/arxiv_related_cpu.jsonl" "$work/arxiv_related_cuda.jsonl"
  same "arxiv-daily related k=100" "$work/arxiv_related100_cpu.jsonl" "$work/arxiv_related100_cuda.jsonl"
fi
echo
echo "### demo on the GPU"
echo '```'
"$bin" demo --docs 200000 --dir "$work/demo" --backend cuda -q
echo '```'
exit $fail
