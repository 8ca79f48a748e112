#!/usr/bin/env python3
"""Duplicate recall on the whole arxiv-daily corpus.

Rows sharing an arXiv id are the same paper (ground truth). Runs
`papersim duplicates` once at a low threshold, then reports, for several
thresholds, recall of same-id pairs, the number of other pairs reported, and
the scores of the pairs whose abstract was revised between listings.

usage: bench/arxiv_recall.py PAPERSIM_BIN [ARXIV_JSONL(.xz)] [--backend cpu] [--threads N]
The corpus defaults to $PAPERSIM_DATA_DIR/arxiv-daily/arxiv-daily.jsonl.xz
(../shared/data/...); the script exits 0 with a message when it is absent.
"""
import argparse
import collections
import itertools
import json
import lzma
import os
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("papersim")
    ap.add_argument("corpus", nargs="?")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--low", type=float, default=0.5, help="threshold of the single run")
    ap.add_argument("--extra", nargs="*", default=[], help="extra papersim options")
    args = ap.parse_args()
    corpus = args.corpus or os.path.join(
        os.environ.get("PAPERSIM_DATA_DIR", "../shared/data"), "arxiv-daily", "arxiv-daily.jsonl.xz")
    if not os.path.exists(corpus):
        print(f"skip: {corpus} not found (set PAPERSIM_DATA_DIR to ../shared/data)")
        return 0

    opener = lzma.open if corpus.endswith(".xz") else open
    ids, summaries = [], []
    with opener(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            ids.append(row["id"])
            summaries.append(" ".join(row.get("summary", "").split()))
    groups = collections.defaultdict(list)
    for i, pid in enumerate(ids):
        groups[pid].append(i)
    truth, revised = set(), set()
    for members in groups.values():
        for a, b in itertools.combinations(members, 2):
            truth.add((a, b))
            if summaries[a] != summaries[b]:
                revised.add((a, b))
    print(f"corpus: {len(ids)} rows, {len(groups)} distinct ids, {len(truth)} same-id pairs "
          f"({len(revised)} with a revised abstract)")

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "pairs.jsonl")
        cmd = [args.papersim, "duplicates", corpus, "--threshold", str(args.low), "-o", out,
               "--backend", args.backend, "--quiet"] + args.extra
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        elapsed = time.perf_counter() - t0
        scores = {}
        with open(out, encoding="utf-8") as f:
            for line in f:
                p = json.loads(line)
                scores[(p["doc_a"], p["doc_b"])] = p["score"]
    print(f"papersim duplicates --threshold {args.low}: {len(scores)} pairs in {elapsed:.1f} s "
          f"(read + tf-idf + all pairs)")
    print(f"{'threshold':>9} {'recall':>8} {'found':>7} {'missed':>6} {'other pairs':>11}")
    for t in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        if t < args.low:
            continue
        found = {p for p, s in scores.items() if s >= t}
        hit = len(found & truth)
        print(f"{t:>9.2f} {hit / max(1, len(truth)):>8.4f} {hit:>7} {len(truth) - hit:>6} "
              f"{len(found - truth):>11}")
    print("revised-abstract pairs (same id, different abstract), lowest scores first:")
    rs = sorted((scores.get(p, float("nan")) if p in scores else -1.0, p) for p in revised)
    for s, (a, b) in rs[:15]:
        print(f"  {ids[a]}  rows {a},{b}  score {s:.4f}" if s >= 0 else
              f"  {ids[a]}  rows {a},{b}  score < {args.low}")
    if rs:
        vals = [s for s, _ in rs if s >= 0]
        if vals:
            print(f"  revised pairs: min {min(vals):.4f}, median {sorted(vals)[len(vals) // 2]:.4f}, "
                  f"below {args.low}: {sum(1 for s, _ in rs if s < 0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
