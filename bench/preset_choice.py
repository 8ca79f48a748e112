#!/usr/bin/env python3
"""Measure candidate TF-IDF option sets for papersim's "abstracts" preset.

For each candidate, `papersim vectorize` builds the TF-IDF matrix (so the
papersim-only options, LaTeX cleanup and stemming, are measured as shipped) and
this script scores all pairs exactly:

* seeds (../shared/data/seeds): the 37 same-paper pairs (identical titles across
  pages) against every other pair: lowest same-paper score, highest other
  score, their gap, and the score of the revised-abstract pair;
* arxiv-daily: a random sample of ids with all their rows, plus every id whose
  abstract was revised between listings; rows sharing an id are duplicates.
  Reported: the revised pairs' lowest and median score, the highest score of
  two different papers, how many different-paper pairs score at or above the
  lowest revised pair, and the best F1 of separating revised pairs from
  different-paper pairs by a threshold;
* cost: non-zeros per document and sum over terms of df^2 / N^2 (the sparse
  multiply-adds per pair, design notes section 1), on the arxiv sample.

Usage: preset_choice.py --bin build/host/cli/papersim [--data ../shared/data]
                        [--ids 5000] [--markdown out.md]
Needs numpy and scipy (Debian: /usr/bin/python3 with python3-sklearn).
"""
import argparse
import collections
import json
import lzma
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.io
import scipy.sparse as sp

CANDIDATES = [
    ("sklearn defaults", []),
    ("english stop words", ["--stop-words", "english"]),
    ("english + sublinear_tf", ["--stop-words", "english", "--sublinear-tf"]),
    ("english + sublinear + strip_latex", ["--stop-words", "english", "--sublinear-tf", "--strip-latex"]),
    ("english + sublinear + strip_latex + stem", ["--stop-words", "english", "--sublinear-tf", "--strip-latex", "--stem", "english"]),
    ("english + sublinear + strip_latex + min_df=2", ["--stop-words", "english", "--sublinear-tf", "--strip-latex", "--min-df", "2"]),
    ("english + strip_latex", ["--stop-words", "english", "--strip-latex"]),
    ("english + strip_latex + stem", ["--stop-words", "english", "--strip-latex", "--stem", "english"]),
]


def vectorize(binary, inputs, flags, workdir):
    mtx = os.path.join(workdir, "x.mtx")
    docs = os.path.join(workdir, "docs.jsonl")
    cmd = [binary, "vectorize", *inputs, "--preset", "sklearn", *flags,
           "--out-matrix", mtx, "--out-docs", docs, "--quiet"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    x = sp.csr_matrix(scipy.io.mmread(mtx), dtype=np.float64)
    with open(docs, encoding="utf-8") as f:
        table = [json.loads(line) for line in f]
    return x, table, seconds


def norm_title(t):
    return " ".join(t.lower().split())


def seeds_metrics(x, docs):
    by_title = collections.defaultdict(list)
    for d in docs:
        by_title[norm_title(d["title"])].append(d["doc"])
    dup = set()
    for rows in by_title.values():
        for i in range(len(rows)):
            for j in range(i + 1, len(rows)):
                dup.add((min(rows[i], rows[j]), max(rows[i], rows[j])))
    s = (x @ x.T).toarray()
    n = s.shape[0]
    iu = np.triu_indices(n, 1)
    scores = s[iu]
    is_dup = np.array([(a, b) in dup for a, b in zip(*iu)])
    revised = [p for p in dup if "self-supervised dataset distillation for transfer learning"
               in norm_title(docs[p[0]]["title"])]
    top1 = 0
    members = sorted({i for p in dup for i in p})
    for i in members:
        row = s[i].copy()
        row[i] = -1
        j = int(np.argmax(row))
        top1 += (min(i, j), max(i, j)) in dup
    return {
        "pairs": int(is_dup.sum()),
        "min_dup": float(scores[is_dup].min()),
        "max_other": float(scores[~is_dup].max()),
        "revised": float(s[revised[0]]) if revised else float("nan"),
        "top1": f"{top1}/{len(members)}",
    }


def arxiv_sample(path, n_ids, seed, out):
    rows = []
    with lzma.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            rows.append((r["id"], r.get("title") or "", r.get("summary") or ""))
    texts = collections.defaultdict(set)
    for i, t, s in rows:
        texts[i].add(" ".join((t + " " + s).split()))
    revised = sorted(i for i, v in texts.items() if len(v) > 1)
    ids = sorted(texts)
    rng = random.Random(seed)
    chosen = set(rng.sample(ids, min(n_ids, len(ids)))) | set(revised)
    with open(out, "w", encoding="utf-8") as f:
        for i, t, s in rows:
            if i in chosen:
                f.write(json.dumps({"id": i, "title": t, "summary": s}) + "\n")
    return revised


def arxiv_metrics(x, docs, revised_ids):
    ids = np.array([d["id"] for d in docs])
    n = x.shape[0]
    text_key = None  # Revised pairs: same id, different vectors.
    revised_ids = set(revised_ids)
    dup_scores, revised_scores = [], []
    bins = np.linspace(0.0, 1.0 + 1e-9, 2001)
    other_hist = np.zeros(len(bins) - 1, dtype=np.int64)
    max_other = 0.0
    xt = x.T.tocsc()
    block = 1000
    for b0 in range(0, n, block):
        b1 = min(n, b0 + block)
        s = (x[b0:b1] @ xt).toarray()
        for r in range(b0, b1):
            row = s[r - b0, r + 1:]
            same = ids[r + 1:] == ids[r]
            if same.any():
                sc = row[same]
                dup_scores.extend(sc.tolist())
                if ids[r] in revised_ids:
                    # Pairs of rows whose vectors differ are the revised pairs.
                    revised_scores.extend(sc[sc < 1.0 - 1e-6].tolist())
            other = row[~same]
            if other.size:
                max_other = max(max_other, float(other.max()))
                other_hist += np.histogram(other, bins=bins)[0]
    revised_scores = np.array(revised_scores)
    lo = revised_scores.min() if revised_scores.size else float("nan")
    above = int(other_hist[np.searchsorted(bins, lo, side="right") - 1:].sum()) if revised_scores.size else 0
    # Best F1 for revised pairs vs different-paper pairs over thresholds at bin edges.
    best_f1, best_t = 0.0, 0.0
    other_ge = other_hist[::-1].cumsum()[::-1]
    for k, t in enumerate(bins[:-1]):
        tp = int((revised_scores >= t).sum())
        fp = int(other_ge[k])
        if tp == 0:
            continue
        f1 = 2 * tp / (2 * tp + fp + (revised_scores.size - tp))
        if f1 > best_f1:
            best_f1, best_t = f1, t
    df = np.diff(x.tocsc().indptr).astype(np.float64)
    return {
        "rows": n,
        "dup_pairs": len(dup_scores),
        "revised_pairs": int(revised_scores.size),
        "revised_min": float(lo),
        "revised_median": float(np.median(revised_scores)) if revised_scores.size else float("nan"),
        "max_other": max_other,
        "other_above_revised_min": above,
        "best_f1": best_f1,
        "best_f1_threshold": float(best_t),
        "nnz_per_doc": x.nnz / n,
        "sum_df2_over_n2": float((df * df).sum() / (n * n)),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("PAPERSIM_BIN"), help="papersim executable")
    p.add_argument("--data", default=os.environ.get("PAPERSIM_DATA_DIR", "../shared/data"))
    p.add_argument("--ids", type=int, default=5000, help="random arXiv ids in the sample")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--markdown", help="write the results table here")
    args = p.parse_args()
    if not args.bin:
        sys.exit("--bin (or PAPERSIM_BIN) is required")
    seeds_dir = os.path.join(args.data, "seeds")
    seeds = sorted(os.path.join(seeds_dir, f) for f in os.listdir(seeds_dir) if f.endswith(".txt"))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        sample = os.path.join(tmp, "sample.jsonl")
        revised = arxiv_sample(os.path.join(args.data, "arxiv-daily", "arxiv-daily.jsonl.xz"),
                               args.ids, args.seed, sample)
        for name, flags in CANDIDATES:
            x, docs, _ = vectorize(args.bin, seeds, flags, tmp)
            sm = seeds_metrics(x, docs)
            x, docs, secs = vectorize(args.bin, [sample], flags, tmp)
            am = arxiv_metrics(x, docs, revised)
            am["seconds"] = secs
            results.append((name, flags, sm, am))
            print(name, json.dumps(sm), json.dumps(am), flush=True)
    header = ("| options (on top of --preset sklearn) | seeds: min same-paper | seeds: max other | seeds: gap "
              "| seeds: revised pair | seeds: top-1 | arXiv: revised min / median | arXiv: max other "
              "| arXiv: others ≥ revised min | arXiv: best F1 (threshold) | nnz/doc | Σdf²/N² |")
    lines = [header, "|" + "---|" * 12]
    for name, flags, sm, am in results:
        lines.append(
            f"| {name} | {sm['min_dup']:.3f} | {sm['max_other']:.3f} | {sm['min_dup'] - sm['max_other']:+.3f} "
            f"| {sm['revised']:.3f} | {sm['top1']} | {am['revised_min']:.3f} / {am['revised_median']:.3f} "
            f"| {am['max_other']:.3f} | {am['other_above_revised_min']} "
            f"| {am['best_f1']:.3f} ({am['best_f1_threshold']:.3f}) | {am['nnz_per_doc']:.1f} "
            f"| {am['sum_df2_over_n2']:.2f} |")
    am0 = results[0][3]
    lines.append("")
    lines.append(f"arXiv sample: {am0['rows']} rows ({args.ids} random ids plus every id with a revised "
                 f"abstract, seed {args.seed}), {am0['dup_pairs']} same-id pairs of which "
                 f"{am0['revised_pairs']} have different vectors (revised abstracts).")
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
