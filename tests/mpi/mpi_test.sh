#!/usr/bin/env bash
# MPI runs give the one-process outputs byte for byte: every distributed
# command under `mpirun -np 1, 2, 3` on the seeds and a 20,000-row arxiv-daily
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

# same NAME OUTFLAG... -- ARGS: run ARGS as one process and under -np 1, 2, 3;
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
  for p in 1 2 3; do
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
expect 2 fail-unsupported vectorize "${s[0]}" --out-vocab "$work/v.txt"
expect 2 fail-index related --index "$work/none.psx" "${s[0]}" -o "$work/x.jsonl"
expect 2 fail-stdin related -k 3 - -o "$work/x.jsonl"
expect 2 fail-usage --pattern 'must be >= 1' related -k 0 "${s[0]}"
expect 3 fail-output related -k 3 "${s[0]}" -o /nonexistent-dir/out.jsonl

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all MPI runs byte-identical to one process"
