#!/usr/bin/env python3
"""Default threshold of `papersim check`, measured on revised arXiv abstracts.

arxiv-daily lists one paper on several days; where the abstract changed between
listings, the later version is a real "lightly rewritten copy" of the earlier one.
Each revised paper's last listing becomes a submission (id "REV:<id>"), and every
other row is the published corpus. One `papersim check --collapse-ids` run at a
low threshold, then for each threshold t:
  recall       revised submissions whose own earlier version matches at >= t
  other flags  submissions with a match at >= t to another paper (a different id)
The default (0.45) sits below the lowest own-version score measured (0.495);
numbers in the README.

usage: bench/check_threshold.py PAPERSIM_BIN [ARXIV_JSONL(.xz)] [--backend cpu]
The corpus defaults to $PAPERSIM_DATA_DIR/arxiv-daily/arxiv-daily.jsonl.xz
(../shared/data/...); the script exits 0 with a message when it is absent.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

from arxiv_lines import arxiv_lines


def norm(s):
    return " ".join((s or "").split())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("papersim")
    ap.add_argument("corpus", nargs="?")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--low", type=float, default=0.2, help="threshold of the single run")
    args = ap.parse_args()
    lines = arxiv_lines(args.corpus)
    if lines is None:
        return 0
    rows = [json.loads(l) for l in lines]
    by_id = collections.defaultdict(list)
    for i, r in enumerate(rows):
        by_id[str(r["id"])].append(i)
    revised = {}  # id -> row index of the last listing, when its abstract differs from the first
    for pid, idx in by_id.items():
        if len(idx) > 1 and norm(rows[idx[-1]].get("summary")) != norm(rows[idx[0]].get("summary")):
            revised[pid] = idx[-1]
    subs_rows = set(revised.values())
    with tempfile.TemporaryDirectory() as tmp:
        subs = os.path.join(tmp, "subs.jsonl")
        pubs = os.path.join(tmp, "published.jsonl")
        out = os.path.join(tmp, "check.jsonl")
        with open(subs, "w") as s, open(pubs, "w") as p:
            for i, r in enumerate(rows):
                if i in subs_rows:
                    s.write(json.dumps(dict(r, id="REV:" + str(r["id"]))) + "\n")
                else:
                    p.write(lines[i])
        t0 = time.time()
        subprocess.run([args.papersim, "check", subs, "--against", pubs, "--collapse-ids", "-q",
                        "-t", str(args.low), "--backend", args.backend, "-o", out], check=True)
        seconds = time.time() - t0
        own = {}     # submission id -> score of its earlier version
        other = {}   # submission id -> best score to another paper
        for l in open(out):
            o = json.loads(l)
            orig = o["id"][4:]
            for m in o["matches"]:
                if m["side"] == "published" and m["id"] == orig:
                    own[o["id"]] = max(own.get(o["id"], 0), m["score"])
                elif m["id"] != o["id"]:
                    other[o["id"]] = max(other.get(o["id"], 0), m["score"])
    n = len(revised)
    print(f"{len(rows)} rows, {len(by_id)} ids, {n} revised papers (last listing vs earlier ones); "
          f"check run {seconds:.1f} s")
    print("| threshold | recall (own earlier version >= t) | submissions flagged by another paper |")
    print("|---|---|---|")
    best = None
    for t in [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]:
        rec = sum(1 for v in own.values() if v >= t) / n if n else 1.0
        fl = sum(1 for v in other.values() if v >= t)
        print(f"| {t:.2f} | {rec:.4f} | {fl} |")
        if rec >= 0.99:
            best = t
    lowest = sorted(own.values())[:10]
    print(f"lowest own-version scores: {', '.join(f'{v:.3f}' for v in lowest)}; "
          f"missing below {args.low}: {n - len(own)}")
    print(f"largest threshold with recall >= 0.99: {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
