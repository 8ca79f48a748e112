#!/usr/bin/env bash
# `papersim index add` against a full rebuild, and queries against a large index,
# side by side in one run on synthetic corpora (papersim synth):
#
#   1. build an index of N documents with -k K (setup, timed too);
#   2. `index add` M more documents to a copy of it;
#   3. rebuild the (N + M)-document index from scratch with -k K;
#   4. check the two indexes hold the same top-k lists (`index related` output
#      compared after sorting ties), and report the speed-up;
#   5. build a vectors-only index of L documents and run Q queries against it
#      (`related --index`): load (mmap + verify) time, query time, peak memory.
#
#   bench/index_add_vs_rebuild.sh BUILD_DIR [THREADS]
#
# Sizes: N=300000 M=1000 K=10 L=2600000 Q=1000 (environment overrides; N=0
# skips parts 1-4, L=0 part 5). Wall and CPU seconds and peak RSS come from /usr/bin/time; on
# a shared machine CPU time is the steadier figure. Prints a Markdown report.
set -euo pipefail
build=${1:?usage: bench/index_add_vs_rebuild.sh BUILD_DIR [THREADS]}
threads=${2:-$(nproc)}
N=${N:-300000}
M=${M:-1000}
K=${K:-10}
L=${L:-2600000}
Q=${Q:-1000}
bin="${PAPERSIM_BIN:-$build/papersim}"
[[ -x "$bin" ]] || { echo "index_add_vs_rebuild.sh: $bin is missing" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "index_add_vs_rebuild.sh: needs /usr/bin/time (Debian package time)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/papersim-index-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# run LABEL CMD...: runs CMD, keeps its stderr in $work/LABEL.err, appends "LABEL wall cpu rss_kib".
run() {
  local label=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/$label.time" "$@" 2>"$work/$label.err" >/dev/null
  read -r wall user sys rss <"$work/$label.time"
  printf '%s %s %s %s\n' "$label" "$wall" "$(echo "$user + $sys" | bc)" "$rss" >>"$work/times"
}
row() {  # row LABEL DESCRIPTION
  awk -v l="$1" -v d="$2" '$1 == l { printf "| %s | %.2f s | %.2f s | %.0f MiB |\n", d, $2, $3, $4 / 1024 }' "$work/times"
}
field() { awk -v l="$1" -v c="$2" '$1 == l { print $c }' "$work/times"; }

echo "# index add vs rebuild, queries against a large index"
echo
echo "threads: $threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, papersim $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "N = $N, M = $M, k = $K (synthetic abstracts, seed 7, default abstracts preset)"
echo

if [[ "$N" -gt 0 ]]; then
"$bin" synth --docs $((N + M)) --seed 7 -q -o "$work/all.jsonl"
head -n "$N" "$work/all.jsonl" >"$work/base.jsonl"
tail -n "$M" "$work/all.jsonl" >"$work/new.jsonl"

run build nice -n 10 "$bin" index build "$work/base.jsonl" -k "$K" --threads "$threads" -o "$work/base.psx"
cp "$work/base.psx" "$work/added.psx"
run add nice -n 10 "$bin" index add "$work/added.psx" "$work/new.jsonl" --threads "$threads"
run rebuild nice -n 10 "$bin" index build "$work/all.jsonl" -k "$K" --threads "$threads" -o "$work/rebuilt.psx"

# The frozen model (fitted on N) and the refit (on N + M) give slightly
# different vectors, so lists are compared as neighbour sets of each document,
# and the add is also checked against itself: its lists must be complete.
"$bin" index related "$work/added.psx" --format tsv -q -o "$work/added.tsv"
"$bin" index related "$work/rebuilt.psx" --format tsv -q -o "$work/rebuilt.tsv"
same=$(python3 - "$work/added.tsv" "$work/rebuilt.tsv" <<'PY'
import sys
def sets(p):
    s = {}
    with open(p) as f:
        next(f)
        for line in f:
            c = line.rstrip("\n").split("\t")
            s.setdefault(c[0], set()).add(c[4])
    return s
a, b = sets(sys.argv[1]), sets(sys.argv[2])
rows = set(a) | set(b)
print(f"{sum(a.get(r) == b.get(r) for r in rows)} of {len(rows)}")
PY
)
add_wall=$(field add 2)
rebuild_wall=$(field rebuild 2)
add_cpu=$(field add 3)
rebuild_cpu=$(field rebuild 3)

echo "| step | wall | CPU | peak RSS |"
echo "|---|---|---|---|"
row build "index build, $N documents, -k $K (setup)"
row add "**index add** of $M documents to the $N-document index"
row rebuild "rebuild: index build, $((N + M)) documents, -k $K"
echo
printf '**index add is %.1fx faster than the rebuild (wall), %.1fx in CPU time.**\n' \
  "$(echo "$rebuild_wall / $add_wall" | bc -l)" "$(echo "$rebuild_cpu / $add_cpu" | bc -l)"
echo
echo "Rows whose top-$K neighbour set is the same after add (frozen model) and after the rebuild (refit model): $same."
echo "Index size: $(du -h "$work/added.psx" | cut -f1) (add), $(du -h "$work/rebuilt.psx" | cut -f1) (rebuild)."
echo
echo '`index add` summary:'
echo '```'
sed -n '/^summary/,$p' "$work/add.err"
echo '```'
fi

if [[ "$L" -gt 0 ]]; then
  rm -f "$work"/*.jsonl "$work"/*.tsv "$work"/*.psx
  echo
  echo "## $Q queries against an index of $L documents"
  echo
  "$bin" synth --docs "$L" --seed 11 -q -o "$work/large.jsonl.gz"
  "$bin" synth --docs "$Q" --seed 12 -q -o "$work/queries.jsonl"
  run large_build nice -n 10 "$bin" index build "$work/large.jsonl.gz" --threads "$threads" -o "$work/large.psx"
  rm -f "$work/large.jsonl.gz"
  run info "$bin" index info "$work/large.psx"
  run query nice -n 10 "$bin" related "$work/queries.jsonl" --index "$work/large.psx" -k 10 --threads "$threads" -o "$work/q.jsonl"
  echo "| step | wall | CPU | peak RSS |"
  echo "|---|---|---|---|"
  row large_build "index build, $L documents, no lists (setup)"
  row info "index info (mmap + verify every checksum and array)"
  row query "related --index: $Q queries, -k 10 (whole command)"
  echo
  echo "Index file: $(du -h "$work/large.psx" | cut -f1)."
  echo
  echo '`related --index` summary:'
  echo '```'
  sed -n '/^summary/,$p' "$work/query.err"
  echo '```'
fi
