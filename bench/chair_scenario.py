#!/usr/bin/env python3
"""The programme chair's dual-submission check, built from arxiv-daily.

Shuffles the corpus (fixed seed) and writes, into OUTDIR:
  submissions.jsonl  1,035 rows renamed SUB-0001.. (their arXiv id kept in "arxiv_id"),
                     plus 100 lightly rewritten copies of some of them, SUB-R001.. (10% of
                     words dropped, 5% of neighbouring words swapped, two sentences swapped)
  published.jsonl    the next 99,000 rows, ids as in arXiv (one paper may be listed on
                     several days, and may be the same paper as a submission)
Then, with PAPERSIM_BIN, runs `papersim check` on them (timed) and scores it:
  - every submission whose arXiv id is among the published rows should be flagged with
    that paper as a match;
  - every rewritten copy should be matched with its original submission;
  - every other flag is counted (submissions matched to a different paper).
With --index, also builds a saved index of the published rows (`papersim index build`,
timed) and runs `check --index` on it (timed, scored the same way); CHECK OPTIONS go to
both checks except --collapse-ids, which --index refuses.

usage: bench/chair_scenario.py OUTDIR [PAPERSIM_BIN] [ARXIV_JSONL(.xz)] [--index] [-- CHECK OPTIONS...]
"""
import collections
import json
import os
import random
import re
import subprocess
import sys
import time

from arxiv_lines import arxiv_lines


def rewrite(text, rng):
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    if len(sentences) > 2:
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    words = " ".join(sentences).split()
    words = [w for w in words if rng.random() >= 0.10]
    for i in range(len(words) - 1):
        if rng.random() < 0.05:
            words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    with_index = "--index" in argv
    argv = [a for a in argv if a != "--index"]
    if not argv:
        print(__doc__)
        return 2
    outdir = argv[0]
    papersim = argv[1] if len(argv) > 1 else None
    lines = arxiv_lines(argv[2] if len(argv) > 2 else None)
    if lines is None:
        return 0
    rows = [json.loads(l) for l in lines]
    rng = random.Random(20261202)
    rng.shuffle(rows)
    subs, pubs = rows[:1035], rows[1035:1035 + 99000]
    os.makedirs(outdir, exist_ok=True)
    sub_path = os.path.join(outdir, "submissions.jsonl")
    pub_path = os.path.join(outdir, "published.jsonl")
    rewritten = {}  # SUB-Rnnn -> SUB-nnnn
    with open(sub_path, "w") as f:
        for i, r in enumerate(subs):
            f.write(json.dumps(dict(r, id=f"SUB-{i + 1:04d}", arxiv_id=str(r["id"]))) + "\n")
        for j, i in enumerate(sorted(rng.sample(range(len(subs)), 100))):
            r = subs[i]
            rid = f"SUB-R{j + 1:03d}"
            rewritten[rid] = f"SUB-{i + 1:04d}"
            f.write(json.dumps(dict(r, id=rid, arxiv_id=str(r["id"]),
                                    summary=rewrite(r.get("summary") or "", rng))) + "\n")
    with open(pub_path, "w") as f:
        for r in pubs:
            f.write(json.dumps(r) + "\n")
    published_ids = collections.Counter(str(r["id"]) for r in pubs)
    sub_arxiv = {f"SUB-{i + 1:04d}": str(r["id"]) for i, r in enumerate(subs)}
    with_copy = {s for s, a in sub_arxiv.items() if a in published_ids}
    print(f"wrote {len(subs) + len(rewritten)} submissions ({len(rewritten)} rewritten copies) and "
          f"{len(pubs)} published rows to {outdir}; {len(with_copy)} submissions have a published "
          f"copy ({sum(published_ids[sub_arxiv[s]] for s in with_copy)} published rows)")
    if not papersim:
        return 0
    explained = set(with_copy) | set(rewritten) | set(rewritten.values())

    def run_check(cmd, out):
        t0 = time.time()
        subprocess.run(cmd, check=True)
        seconds = time.time() - t0
        flagged = {}
        for l in open(out):
            o = json.loads(l)
            flagged[o["id"]] = o
        found_copy = sum(1 for s in with_copy if s in flagged and any(
            m["side"] == "published" and m["id"] == sub_arxiv[s] for m in flagged[s]["matches"]))
        found_rw = sum(1 for r, s in rewritten.items() if r in flagged and any(
            m["id"] == s for m in flagged[r]["matches"]))
        others = [s for s in flagged if s not in explained]
        print(f"check: {' '.join(cmd[1:])}")
        print(f"  {seconds:.1f} s; {len(flagged)} submissions flagged")
        print(f"  published copies found: {found_copy} of {len(with_copy)}")
        print(f"  rewritten copies matched with their original: {found_rw} of {len(rewritten)}")
        print(f"  other flagged submissions: {len(others)}")

    out = os.path.join(outdir, "check.jsonl")
    run_check([papersim, "check", sub_path, "--against", pub_path, "-o", out] + extra, out)
    if with_index:
        psx = os.path.join(outdir, "published.psx")
        t0 = time.time()
        subprocess.run([papersim, "index", "build", pub_path, "-q", "-o", psx], check=True)
        print(f"index build {pub_path}: {time.time() - t0:.1f} s")
        out = os.path.join(outdir, "check-index.jsonl")
        run_check([papersim, "check", sub_path, "--index", psx, "-o", out] +
                  [a for a in extra if a != "--collapse-ids"], out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
