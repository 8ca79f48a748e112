#!/usr/bin/env bash
# MPI runs give the one-process outputs byte for byte: every distributed
# command under `mpirun -np 1, 2, 3` (related also 4 and 5) on the seeds and a 20,000-row arxiv-daily
# sample, compared with cmp against the same binary run as one process; and a
# failure on any rank ends every rank with one message and a non-zero exit
# (an unwritable output fails on rank 0 alone: the one-rank case).
#
# Environment: PAPERSIM_BIN (the CLI), PAPERSIM_DATA_DIR (holding seeds/ and
# arxiv-daily/), MPIEXEC (mpirun), WORK (a scratch directory). Exits 77 (skip)
# without the shared data.
set -euo pipefail

bin=${PAPERSIM_BIN:?PAPERSIM_BIN is not set}
data=${PAPERSIM_DATA_DIR:-}
mpiexec=${MPIEXEC:-mpirun}
work=${WORK:-$(mktemp -d)}
seeds=$data/seeds
arxiv=$data/arxiv-daily/arxiv-daily.jsonl.xz
if [[ -z $data || ! -d $seeds || ! -f $arxiv ]]; then
  echo "SKIP: shared data not found (set PAPERSIM_DATA_DIR to the folder with seeds/ and arxiv-daily/)"
  exit 77
fi
mkdir -p "$work"
# Root in containers: Open MPI refuses without these two.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One thread per rank: two or three ranks share this machine's cores.
threads=(--threads 1)
launch() {  # launch P args...: one rank set, bounded so a hang fails the test
  local p=$1
  shift
  timeout 120 "$mpiexec" --oversubscribe -np "$p" "$bin" "$@"
}

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# same NAME OUTFLAG... -- ARGS: run ARGS as one process and under -np each of
# "${ranks[@]}" (1, 2, 3 unless set otherwise);
# each output file (given as `-o`-style flag/name pairs) must match byte for byte.
same() {
  local name=$1
  shift
  local outs=()
  while [[ $1 != -- ]]; do
    outs+=("$1")
    shift
  done
  shift
  local flags=() p o
  for o in "${outs[@]}"; do
    flags+=("${o%%=*}" "$work/$name.1proc.${o#*=}")
  done
  "$bin" "$@" "${threads[@]}" --quiet "${flags[@]}" || fail "$name: one process exited $?"
  for p in "${ranks[@]}"; do
    flags=()
    for o in "${outs[@]}"; do
      flags+=("${o%%=*}" "$work/$name.np$p.${o#*=}")
    done
    if ! launch "$p" "$@" "${threads[@]}" --quiet "${flags[@]}" 2>"$work/$name.np$p.err"; then
      fail "$name -np $p exited non-zero: $(tail -3 "$work/$name.np$p.err")"
      continue
    fi
    for o in "${outs[@]}"; do
      local a="$work/$name.1proc.${o#*=}" b="$work/$name.np$p.${o#*=}"
      if [[ ! -s $a ]]; then
        fail "$name: empty output ${o#*=}"
      elif cmp -s "$a" "$b"; then
        echo "ok   $name -np $p ${o#*=} ($(wc -l <"$a") lines)"
      else
        fail "$name -np $p: ${o#*=} differs from one process ($(cmp "$a" "$b" | head -1))"
      fi
    done
  done
}

ranks=(1 2 3)
s=("$seeds"/*.txt)
same seeds-related -o=out.jsonl -- related -k 10 "${s[@]}"
same seeds-duplicates -o=pairs.jsonl --clusters=clusters.jsonl -- duplicates -t 0.5 "${s[@]}"
same seeds-against -o=out.jsonl -- related -k 5 "${s[0]}" "${s[1]}" --against "${s[2]}" "${s[3]}" "${s[4]}"
same seeds-against-pairs -o=pairs.jsonl -- duplicates -t 0.5 "${s[0]}" "${s[1]}" "${s[2]}" --against "${s[3]}" "${s[4]}"
same seeds-check -o=check.jsonl -- check "${s[0]}" "${s[1]}" --against "${s[2]}" "${s[3]}" "${s[4]}"

# The arxiv sample: its first 20,000 rows, split 15,000 / 5,000 for --against.
sample=$work/arxiv-20k.jsonl
if [[ ! -s $sample ]]; then
  # head closes the pipe early: xz's SIGPIPE is expected.
  { xz -dc "$arxiv" || true; } | head -n 20000 >"$sample.tmp"
  mv "$sample.tmp" "$sample"
fi
head -n 15000 "$sample" >"$work/arxiv-q.jsonl"
tail -n 5000 "$sample" >"$work/arxiv-r.jsonl"
same arxiv-related -o=out.jsonl -- related -k 10 --neighbor-fields id,score "$sample"
same arxiv-duplicates -o=pairs.jsonl --clusters=clusters.jsonl -- duplicates "$sample"
same arxiv-against -o=out.jsonl -- related -k 10 --neighbor-fields id,score --collapse-ids \
  "$work/arxiv-r.jsonl" --against "$work/arxiv-q.jsonl"
same arxiv-dedup -o=dedup.jsonl --removed=removed.jsonl -- dedup "$sample"
same arxiv-check -o=check.jsonl -- check "$work/arxiv-r.jsonl" --against "$work/arxiv-q.jsonl"

# Inputs cut inside one file (each rank parses its own byte range): the sample
# as CSV (abstracts with line breaks and quotes, so quoted fields cross the
# cuts), and as JSON Lines with blank lines, records without an id (their id
# is "<file>:<record>") and bad records (skipped, named by file and line), so
# record numbers, ids and sources must all come out as one process's.
python3 - "$sample" "$work" <<'PY'
import csv, json, sys
sample, work = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(sample, encoding="utf-8")]
with open(f"{work}/arxiv.csv", "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "title", "abstract"])
    for r in rows[:8000]:
        w.writerow([r.get("id", ""), r.get("title", ""), r.get("abstract") or r.get("summary", "")])
with open(f"{work}/mixed.jsonl", "w", encoding="utf-8") as f:
    for i, r in enumerate(rows[:8000]):
        if i % 777 == 0:
            f.write("\n")
        if i % 1000 == 500:
            r.pop("id", None)
        f.write(json.dumps(r) + "\n")
        if i in (4500, 6100):
            f.write('{"id": "broken", \n')
PY
# A small compressed file (read whole by one rank) among cut files.
head -n 3000 "$sample" | gzip -c >"$work/small.jsonl.gz"
same csv-duplicates -o=pairs.jsonl --clusters=clusters.jsonl -- duplicates "$work/arxiv.csv"
same csv-dedup -o=dedup.csv --removed=removed.jsonl -- dedup "$work/arxiv.csv"
same mixed-related -o=out.jsonl -- related -k 5 --neighbor-fields id,source,score "$work/mixed.jsonl"
same files-related -o=out.jsonl -- related -k 5 --neighbor-fields doc,id,source,score \
  "$work/small.jsonl.gz" "${s[0]}" "$work/arxiv.csv" "${s[1]}" "$work/mixed.jsonl"
same files-check -o=check.jsonl -- check "$work/mixed.jsonl" "${s[2]}" \
  --against "$work/arxiv.csv" "$work/small.jsonl.gz" "${s[3]}"

# A self-join's related lists come from a half ring of two-sided steps: under
# 4 ranks one two-sided step and the split half step, under 5 two two-sided steps.
ranks=(4 5)
same seeds-related-more-ranks -o=out.jsonl -- related -k 10 "${s[@]}"
same mixed-related-more-ranks -o=out.jsonl -- related -k 7 --neighbor-fields id,score "$work/mixed.jsonl"
ranks=(1 2 3)

# index build: the file rank 0 writes is one process's, byte for byte.
same index-build -o=index.psx -- index build -k 5 "$work/arxiv.csv" "${s[4]}" "$work/mixed.jsonl"

# The cut is real: under -np 3 every rank joins a share of the rows.
if launch 3 related -k 3 "${threads[@]}" "$work/arxiv.csv" -o "$work/shares.jsonl" \
  2>"$work/shares.err"; then
  shares=$(grep -cE '^  rank [0-2]  [1-9][0-9,]* rows' "$work/shares.err" || true)
  if [[ $shares -eq 3 ]]; then
    echo "ok   shares: $(grep -E '^  rank' "$work/shares.err" | awk '{print $3}' | paste -sd' ') rows"
  else
    fail "shares: expected 3 ranks with rows: $(grep -E '^  rank' "$work/shares.err")"
  fi
else
  fail "shares: -np 3 exited non-zero"
fi

# Messages name the file's own line numbers, whichever rank read the line.
"$bin" related -k 3 "${threads[@]}" "$work/mixed.jsonl" -o "$work/x.jsonl" 2>"$work/skips.1proc.err" ||
  fail "skips: one process exited $?"
for p in 2 3; do
  launch "$p" related -k 3 "${threads[@]}" "$work/mixed.jsonl" -o "$work/x.jsonl" \
    2>"$work/skips.np$p.err" || fail "skips -np $p exited non-zero"
  if diff <(grep '^papersim: skipped' "$work/skips.1proc.err") \
    <(grep '^papersim: skipped' "$work/skips.np$p.err") >/dev/null; then
    echo "ok   skips -np $p: $(grep -c '^papersim: skipped' "$work/skips.1proc.err") messages as one process"
  else
    fail "skips -np $p: skip messages differ from one process"
  fi
done
"$bin" related -k 3 --strict "${threads[@]}" "$work/mixed.jsonl" -o "$work/x.jsonl" \
  2>"$work/strict.1proc.err" && fail "strict: one process exited 0"
strict_line=$(grep '^papersim: error' "$work/strict.1proc.err")

# Failures: every rank ends non-zero, with one message and no hang.
expect() {  # expect CODE NAME ARGS...: under -np 2, exit CODE and print one error line
  local code=$1 name=$2 rc=0 pattern='^papersim: error'
  shift 2
  if [[ $1 == --pattern ]]; then
    pattern=$2
    shift 2
  fi
  launch 2 "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
  local lines
  lines=$(grep -c -- "$pattern" "$work/$name.err" || true)
  if [[ $rc -ne $code ]]; then
    fail "$name: exit $rc, expected $code: $(tail -3 "$work/$name.err")"
  elif [[ $lines -ne 1 ]]; then
    fail "$name: $lines error lines, expected 1: $(cat "$work/$name.err")"
  else
    echo "ok   $name: exit $code, $(grep -- "$pattern" "$work/$name.err")"
  fi
}
printf '{"id":"a","title":"T","summary":"some words here"}\n{"id":\n' >"$work/bad.jsonl"
expect 3 fail-missing-file related -k 3 "${s[0]}" "$work/no-such-file.jsonl" -o "$work/x.jsonl"
expect 3 fail-strict related -k 3 --strict "$sample" "$work/bad.jsonl" -o "$work/x.jsonl"
# The first bad record of mixed.jsonl is in the second rank's share, which
# starts inside the file; the one message is one process's, line number included.
for p in 2 3; do
  rc=0
  launch "$p" related -k 3 --strict "${threads[@]}" "$work/mixed.jsonl" -o "$work/x.jsonl" \
    2>"$work/strict.np$p.err" || rc=$?
  if [[ $rc -eq 3 && $(grep '^papersim: error' "$work/strict.np$p.err") == "$strict_line" ]]; then
    echo "ok   strict -np $p: $strict_line"
  else
    fail "strict -np $p: exit $rc, $(grep '^papersim: error' "$work/strict.np$p.err"), expected $strict_line"
  fi
done
expect 2 fail-unsupported vectorize "${s[0]}" --out-vocab "$work/v.txt"
expect 2 fail-unsupported-index index add "$work/none.psx" "${s[0]}"
expect 2 fail-index related --index "$work/none.psx" "${s[0]}" -o "$work/x.jsonl"
expect 2 fail-stdin related -k 3 - -o "$work/x.jsonl"
expect 2 fail-usage --pattern 'must be >= 1' related -k 0 "${s[0]}"
expect 3 fail-output related -k 3 "${s[0]}" -o /nonexistent-dir/out.jsonl
# A write that fails on rank 0 while the other ranks' parts arrive (a full disk).
expect 1 fail-write related -k 3 "${threads[@]}" "$work/arxiv.csv" -o /dev/full

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all MPI runs byte-identical to one process"
