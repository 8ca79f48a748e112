#!/usr/bin/env python3
"""Measure the corpus statistics that papersim's synthetic generator is fitted to.

Run on the real arXiv-daily abstracts (distinct ids only, first occurrence
kept) and, optionally, on a synthetic corpus from `papersim synth`, and print
the comparison as a Markdown table:

    /usr/bin/python3 bench/synth_stats.py \
        --real ../shared/data/arxiv-daily/arxiv-daily.jsonl.xz \
        --synth synth.jsonl.gz --truth truth.jsonl --tables

Measured (tokens are scikit-learn's default `(?u)\\b\\w\\w+\\b` on lowercased
text; the document text is title + "\\n" + abstract, as papersim reads it):
  - tokens per abstract and per title (mean, sd, quantiles);
  - vocabulary growth V(n) = K * n^beta over running tokens (Heaps' law);
  - rank-frequency of term counts, fitted to a Zipf-Mandelbrot law
    f(r) ~ (r + q)^-s, and the document frequency of the top terms;
  - TF-IDF with TfidfVectorizer defaults: vocabulary, non-zeros per document,
    sum over terms of df^2 in units of N^2;
  - the best-neighbour cosine of each document within a sample, and (with
    --truth) the cosine of planted near-duplicate pairs.

`--tables` also prints the quantile tables baked into host/synth/.
Needs numpy, scipy and scikit-learn (Debian: python3-sklearn; use /usr/bin/python3).
"""

import argparse
import collections
import gzip
import json
import lzma
import math
import re
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

TOKEN = re.compile(r"(?u)\b\w\w+\b")


def open_text(path):
    if path.endswith(".xz"):
        return lzma.open(path, "rt", encoding="utf-8")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, "r", encoding="utf-8")


def load(path, limit=None):
    """(ids, titles, abstracts) of distinct ids, first occurrence, in file order."""
    seen = set()
    ids, titles, abstracts = [], [], []
    with open_text(path) as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            rid = rec.get("id")
            if rid in seen:
                continue
            seen.add(rid)
            ids.append(rid)
            titles.append(rec.get("title") or "")
            abstracts.append(rec.get("abstract") or rec.get("summary") or "")
            if limit and len(ids) >= limit:
                break
    return ids, titles, abstracts


def quantiles(values, qs):
    return np.quantile(np.asarray(values, dtype=np.float64), qs)


def heaps_fit(token_lists):
    """Fit V = K n^beta on checkpoints spaced evenly in log n, from 1e5 tokens on."""
    vocab = set()
    n = 0
    points = []
    next_mark = 1e4
    for toks in token_lists:
        for t in toks:
            vocab.add(t)
        n += len(toks)
        if n >= next_mark:
            points.append((n, len(vocab)))
            next_mark *= 1.25
    points.append((n, len(vocab)))
    pts = [(a, b) for a, b in points if a >= 1e5]
    x = np.log([p[0] for p in pts])
    y = np.log([p[1] for p in pts])
    beta, logk = np.polyfit(x, y, 1)
    return math.exp(logk), beta, n, len(vocab)


def two_segment_fit(freqs, max_rank):
    """Zipf-Mandelbrot head p(r) = C (r + q)^-s on ranks 1..max_rank (least
    squares in log space, points evenly spaced in log r), and the power-law slope
    of the tail from max_rank to 20 * max_rank (where counts are still >= ~10)."""
    f = freqs / freqs.sum()
    ranks = np.arange(1, len(f) + 1, dtype=np.float64)
    idx = np.unique(np.round(np.logspace(0, math.log10(max_rank), 200)).astype(int)) - 1
    best = None
    for q in np.arange(0.0, 20.0, 0.25):
        x = np.log(ranks[idx] + q)
        y = np.log(f[idx])
        slope, c = np.polyfit(x, y, 1)
        err = float(np.mean((y - (slope * x + c)) ** 2))
        if best is None or err < best[0]:
            best = (err, -slope, q)
    hi = min(len(f), 20 * max_rank)
    tidx = np.unique(np.round(np.logspace(math.log10(max_rank), math.log10(hi), 100)).astype(int)) - 1
    tail = -np.polyfit(np.log(ranks[tidx]), np.log(f[tidx]), 1)[0]
    return best[1], best[2], tail


def generator_law_fit(freqs, n_tokens, vocab):
    """Grid search for the generator's law (host/synth/model.hpp ModelParams):
    head (r + 1 + q)^-s_head for ranks below `knee`, then w(knee) (r/knee)^-s_tail.
    Matches the token shares at ranks 1..10,000, the cumulative shares of the
    top 100 / 1,000 / 5,000 / 10,000 ranks, and the expected vocabulary after
    n_tokens draws (sum over ranks of 1 - exp(-n p))."""
    f = freqs / freqs.sum()
    points = [1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]
    cums = [100, 1000, 5000, 10000]
    r = np.arange(1, 600_000, dtype=np.float64)
    best = None
    for s in np.arange(0.85, 1.06, 0.05):
        for q in (1, 2, 3, 5):
            for knee in (1000, 1500, 2000, 3000, 4000):
                for st in (1.6, 1.7, 1.8, 1.9, 2.0, 2.1):
                    w = (r + q) ** -s
                    wk = (knee + q) ** -s
                    w[knee:] = wk * (r[knee:] / knee) ** -st
                    p = w / w.sum()
                    v = float(np.sum(-np.expm1(-n_tokens * p)))
                    err = sum((math.log(p[k - 1]) - math.log(f[k - 1])) ** 2 for k in points)
                    err += 10 * sum((math.log(p[:k].sum()) - math.log(f[:k].sum())) ** 2 for k in cums)
                    err += 10 * (math.log(v) - math.log(vocab)) ** 2
                    if best is None or err < best[0]:
                        best = (err, s, q, knee, st, v)
    return best


def tfidf_stats(texts):
    vec = TfidfVectorizer(dtype=np.float32)
    x = vec.fit_transform(texts).tocsr()
    n = x.shape[0]
    df = np.bincount(x.indices, minlength=x.shape[1]).astype(np.float64)
    return x, {
        "vocab": x.shape[1],
        "nnz_per_doc": x.nnz / n,
        "sum_df2": float(np.sum(df * df)) / (float(n) * n),
    }


def best_neighbour(x, rows):
    """Best cosine of each row in `rows` against every other row of `rows`."""
    s = x[rows]
    best = np.empty(len(rows), dtype=np.float32)
    st = s.T.tocsc()
    for b in range(0, len(rows), 2000):
        block = (s[b : b + 2000] @ st).toarray()
        for i in range(block.shape[0]):
            block[i, b + i] = -1.0
        best[b : b + 2000] = block.max(axis=1)
    return best


def measure(name, path, limit, sample, truth_path=None):
    t0 = time.time()
    ids, titles, abstracts = load(path, limit)
    n = len(ids)
    abs_tokens = [TOKEN.findall(a.lower()) for a in abstracts]
    title_tokens = [TOKEN.findall(t.lower()) for t in titles]
    abs_len = np.array([len(t) for t in abs_tokens])
    title_len = np.array([len(t) for t in title_tokens])
    doc_tokens = [a + b for a, b in zip(title_tokens, abs_tokens)]
    k, beta, total_tokens, vocab_tokens = heaps_fit(doc_tokens)
    counts = collections.Counter()
    dfs = collections.Counter()
    for toks in doc_tokens:
        counts.update(toks)
        dfs.update(set(toks))
    freqs = np.sort(np.array(list(counts.values()), dtype=np.float64))[::-1]
    s, q, tail = two_segment_fit(freqs, 1500)
    shares = np.cumsum(freqs) / freqs.sum()
    top = [c for _, c in dfs.most_common(20)]
    texts = [t + "\n" + a for t, a in zip(titles, abstracts)]
    x, tf = tfidf_stats(texts)
    rows = np.arange(min(sample, n))
    bn = best_neighbour(x, rows)
    r = {
        "name": name,
        "docs": n,
        "abs_len": abs_len,
        "title_len": title_len,
        "distinct_per_doc": float(np.mean([len(set(t)) for t in doc_tokens])),
        "tokens": total_tokens,
        "heaps_k": k,
        "heaps_beta": beta,
        "zipf_s": s,
        "zipf_q": q,
        "zipf_tail": tail,
        "share_100": shares[99],
        "share_1000": shares[999],
        "freqs": freqs,
        "top_df": [d / n for d in top],
        "hapax": sum(1 for c in counts.values() if c == 1) / len(counts),
        "best_neighbour": bn,
        **tf,
    }
    if truth_path:
        pairs = []
        with open_text(truth_path) as f:
            for line in f:
                if line.strip():
                    rec = json.loads(line)
                    if rec["doc_a"] < n and rec["doc_b"] < n:
                        pairs.append(rec)
        planted = np.array(
            [x[p["doc_a"]].multiply(x[p["doc_b"]]).sum() for p in pairs], dtype=np.float64
        )
        r["planted"] = planted
        r["planted_rates"] = np.array([p["edit_rate"] for p in pairs])
        in_pair = set()
        for p in pairs:
            in_pair.add(p["doc_a"])
            in_pair.add(p["doc_b"])
        mask = np.array([i not in in_pair for i in rows])
        r["best_neighbour_unplanted"] = bn[mask]
    r["seconds"] = time.time() - t0
    return r


def fmt_q(v):
    return "%g" % v


def markdown(results):
    cols = [r["name"] for r in results]
    lines = ["| statistic | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]

    def row(label, f):
        lines.append("| " + label + " | " + " | ".join(f(r) for r in results) + " |")

    row("documents", lambda r: "{:,}".format(r["docs"]))
    row("tokens (title + abstract)", lambda r: "{:,}".format(r["tokens"]))
    for key, label in (("abs_len", "tokens per abstract"), ("title_len", "tokens per title")):
        row(
            label + ": mean / sd",
            lambda r, key=key: "%.1f / %.1f" % (r[key].mean(), r[key].std()),
        )
        row(
            label + ": p5 / p50 / p95",
            lambda r, key=key: " / ".join(
                fmt_q(v) for v in quantiles(r[key], [0.05, 0.5, 0.95])
            ),
        )
    row("distinct terms per document", lambda r: "%.1f" % r["distinct_per_doc"])
    row("Heaps' law V = K·n^β: K / β", lambda r: "%.1f / %.3f" % (r["heaps_k"], r["heaps_beta"]))
    row(
        "rank-frequency: head (r+q)^-s on ranks ≤ 1500: s / q; tail slope (ranks 1500–30000)",
        lambda r: "%.3f / %.2f; %.2f" % (r["zipf_s"], r["zipf_q"], r["zipf_tail"]),
    )
    row(
        "share of tokens in the top 100 / 1,000 terms",
        lambda r: "%.3f / %.3f" % (r["share_100"], r["share_1000"]),
    )
    row("terms seen once (share of vocabulary)", lambda r: "%.2f" % r["hapax"])
    row(
        "df/N of terms ranked 1, 2, 5, 10, 20",
        lambda r: " / ".join("%.2f" % r["top_df"][i] for i in (0, 1, 4, 9, 19)),
    )
    row("TF-IDF vocabulary (sklearn defaults)", lambda r: "{:,}".format(r["vocab"]))
    row("TF-IDF non-zeros per document", lambda r: "%.1f" % r["nnz_per_doc"])
    row("Σ df² / N²", lambda r: "%.1f" % r["sum_df2"])
    row(
        "best-neighbour cosine in the first %d docs: p5 / p50 / p95 / max"
        % len(results[0]["best_neighbour"]),
        lambda r: " / ".join(
            "%.3f" % v for v in quantiles(r["best_neighbour"], [0.05, 0.5, 0.95, 1.0])
        ),
    )
    if any("planted" in r for r in results):
        row(
            "same, documents outside planted pairs",
            lambda r: " / ".join(
                "%.3f" % v
                for v in quantiles(r["best_neighbour_unplanted"], [0.05, 0.5, 0.95, 1.0])
            )
            if "planted" in r
            else "–",
        )
        row(
            "planted pairs: count, cosine min / p5 / p50 / max",
            lambda r: "%d: " % len(r["planted"])
            + " / ".join("%.3f" % v for v in quantiles(r["planted"], [0, 0.05, 0.5, 1.0]))
            if "planted" in r and len(r["planted"])
            else "–",
        )
    return "\n".join(lines)


def tables(r):
    qs = np.linspace(0, 1, 101)
    out = []
    for key in ("abs_len", "title_len"):
        out.append("%s quantiles (0..100%%):" % key)
        out.append(", ".join("%g" % v for v in quantiles(r[key], qs)))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real", help="real corpus (arxiv-daily.jsonl.xz)")
    ap.add_argument("--synth", help="synthetic corpus from papersim synth (.jsonl or .jsonl.gz)")
    ap.add_argument("--truth", help="ground-truth pairs of the synthetic corpus")
    ap.add_argument("--docs", type=int, default=74728,
                    help="synthetic documents to read (default: as many as arxiv-daily's distinct ids)")
    ap.add_argument("--sample", type=int, default=10000, help="docs for the best-neighbour sample")
    ap.add_argument("--tables", action="store_true", help="print quantile tables to bake in")
    args = ap.parse_args()
    results = []
    if args.real:
        results.append(measure("arxiv-daily (distinct ids)", args.real, None, args.sample))
    if args.synth:
        results.append(measure("papersim synth", args.synth, args.docs, args.sample, args.truth))
    if not results:
        ap.error("give --real and/or --synth")
    print(markdown(results))
    if args.tables:
        for r in results:
            print("\n%s (%.1f s)" % (r["name"], r["seconds"]))
            print(tables(r))
            fit = generator_law_fit(r["freqs"], r["tokens"], len(r["freqs"]))
            print("generator law fit: s_head %.2f q_head %g knee %d s_tail %.2f (expected vocabulary %.0f)"
                  % fit[1:])
            top = r["top_df"]
            print("top-20 df/N:", ", ".join("%.3f" % v for v in top))
    for r in results:
        print("%s: measured in %.1f s" % (r["name"], r["seconds"]), file=sys.stderr)


if __name__ == "__main__":
    main()
