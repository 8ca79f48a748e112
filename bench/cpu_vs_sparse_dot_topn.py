#!/usr/bin/env python3
"""papersim's exact CPU engine against sparse_dot_topn 1.2.0, side by side.

Builds the TF-IDF matrix of the distinct arxiv-daily abstracts once per option
set with scikit-learn, then times, on the same matrix and the same number of
threads:
  * sparse_dot_topn: sp_matmul_topn(X, X.T, top_n=k+1, n_threads=T) (k+1: the
    row itself is among its own top scores), in a child process;
  * papersim: build-*/bench/sim_bench --mtx X.csr -k K --threads T, a child
    process running the CPU backend (exact top-k, ties by lower doc).
Prints seconds, pairs/s (N(N-1)/2 unordered pairs), peak RSS of each child
above its loaded input, the ratio, and the top-k agreement.

Needs a Python with scikit-learn, scipy and sparse_dot_topn==1.2.0 (comparison
only, not a papersim dependency), e.g.
  /usr/bin/python3 -m venv --system-site-packages /tmp/sdt-venv
  /tmp/sdt-venv/bin/pip install sparse_dot_topn==1.2.0
  /tmp/sdt-venv/bin/python bench/cpu_vs_sparse_dot_topn.py \
      --data ../shared/data/arxiv-daily/arxiv-daily.jsonl.xz --sim-bench build/bench/sim_bench
"""
import argparse
import json
import lzma
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp


def load_abstracts(path, limit):
    """Distinct arXiv ids in first-listing order; text = title + newline + abstract."""
    seen, texts = set(), []
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["id"] in seen:
                continue
            seen.add(row["id"])
            texts.append((row.get("title") or "") + "\n" + (row.get("summary") or ""))
            if limit and len(texts) >= limit:
                break
    return texts


def write_csr(x, path):
    x = x.tocsr()
    x.sort_indices()
    with open(path, "wb") as f:
        f.write(b"PSCSR1\0\0")
        np.array([x.shape[0], x.shape[1], x.nnz], dtype="<i8").tofile(f)
        x.indptr.astype("<i8").tofile(f)
        x.indices.astype("<i4").tofile(f)
        x.data.astype("<f4").tofile(f)


def peak_rss():
    """VmHWM of this process: ru_maxrss is not used because Linux carries it across
    execve, so a child would report its parent's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_sdt_child(npz, k, threads, out):
    """Child process: load X, time sp_matmul_topn, save the top-k (self removed)."""
    from sparse_dot_topn import sp_matmul_topn

    x = sp.load_npz(npz).astype(np.float32).tocsr()
    xt = x.T.tocsr()
    rss0 = peak_rss()
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    c = sp_matmul_topn(x, xt, top_n=k + 1, n_threads=threads)
    seconds = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
    rss1 = peak_rss()
    c = c.tocsr()
    n = x.shape[0]
    docs = np.full((n, k), -1, dtype=np.int64)
    scores = np.zeros((n, k), dtype=np.float32)
    for i in range(n):
        lo, hi = c.indptr[i], c.indptr[i + 1]
        cols, vals = c.indices[lo:hi], c.data[lo:hi]
        keep = cols != i
        cols, vals = cols[keep], vals[keep]
        order = np.lexsort((cols, -vals))[:k]
        docs[i, : len(order)] = cols[order]
        scores[i, : len(order)] = vals[order]
    np.savez(out, docs=docs, scores=scores)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "input_peak_rss": rss0, "peak_rss": rss1}))


def exact_row_scores(x, i, cols):
    """float64 cosine of row i with the given rows (the reference for disagreements)."""
    return np.asarray((x[cols].astype(np.float64) @ x[i].astype(np.float64).T).todense()).ravel()


def compare(x, k, ps_docs, ps_scores, sdt_docs, sdt_scores):
    """Rows whose top-k doc lists agree; a disagreement is explained when the two
    lists' float64 scores agree within 1e-5 rank by rank (ties or near-ties)."""
    n = x.shape[0]
    same = np.all(ps_docs == sdt_docs, axis=1)
    same_sets = np.array([set(ps_docs[i]) == set(sdt_docs[i]) for i in range(n)])
    explained, worst = 0, 0.0
    unexplained = []
    for i in np.nonzero(~same_sets)[0]:
        a = ps_docs[i][ps_docs[i] >= 0]
        b = sdt_docs[i][sdt_docs[i] >= 0]
        sa = np.sort(exact_row_scores(x, i, a))[::-1]
        sb = np.sort(exact_row_scores(x, i, b))[::-1]
        m = min(len(sa), len(sb))
        diff = float(np.max(np.abs(sa[:m] - sb[:m]))) if m else 0.0
        worst = max(worst, diff)
        if diff <= 1e-5 and len(sa) == len(sb):
            explained += 1
        else:
            unexplained.append((int(i), diff))
    ps_max_err = 0.0
    sample = np.random.default_rng(0).choice(n, size=min(n, 2000), replace=False)
    for i in sample:
        a = ps_docs[i][ps_docs[i] >= 0]
        if len(a):
            ps_max_err = max(ps_max_err, float(np.max(np.abs(exact_row_scores(x, i, a) - ps_scores[i][: len(a)]))))
    return {
        "rows": n,
        "identical_lists": int(same.sum()),
        "identical_sets": int(same_sets.sum()),
        "differing_sets_explained_by_ties": explained,
        "differing_sets_unexplained": len(unexplained),
        "unexplained_examples": unexplained[:5],
        "max_float64_gap_in_differing_rows": worst,
        "papersim_max_abs_error_vs_float64_sample": ps_max_err,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                                                   "arxiv-daily", "arxiv-daily.jsonl.xz"))
    ap.add_argument("--sim-bench", required=True, help="path to the built sim_bench executable")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--limit", type=int, default=0, help="first N distinct abstracts only (0 = all)")
    ap.add_argument("--options", default="defaults,english", help="comma list of: defaults, english")
    ap.add_argument("--head-dim", type=int, default=-1, help="papersim head size (-1 = cost model)")
    ap.add_argument("--sdt-child", nargs=2, metavar=("NPZ", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sdt_child:
        run_sdt_child(args.sdt_child[0], args.k, args.threads, args.sdt_child[1])
        return

    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = load_abstracts(args.data, args.limit)
    print(f"{len(texts)} distinct abstracts, k={args.k}, threads={args.threads}", flush=True)
    tmp = tempfile.mkdtemp(prefix="papersim-bench-")
    summary = []
    for option in args.options.split(","):
        kwargs = {"dtype": np.float32}
        if option == "english":
            kwargs["stop_words"] = "english"
        elif option != "defaults":
            sys.exit(f"unknown option set {option}")
        t0 = time.perf_counter()
        x = TfidfVectorizer(**kwargs).fit_transform(texts).astype(np.float32).tocsr()
        x.sort_indices()
        print(f"\n== TF-IDF {option}: {x.shape[0]} x {x.shape[1]}, {x.nnz} non-zeros "
              f"({x.nnz / x.shape[0]:.0f}/doc), built in {time.perf_counter() - t0:.1f} s", flush=True)
        npz = os.path.join(tmp, f"{option}.npz")
        csr = os.path.join(tmp, f"{option}.csr")
        sp.save_npz(npz, x, compressed=False)
        write_csr(x, csr)
        n = x.shape[0]
        pairs = n * (n - 1) // 2

        sdt_out = os.path.join(tmp, f"{option}-sdt.npz")
        r = subprocess.run([sys.executable, __file__, "--sdt-child", npz, sdt_out, "-k", str(args.k),
                            "--threads", str(args.threads), "--sim-bench", args.sim_bench],
                           check=True, capture_output=True, text=True)
        sdt = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"sparse_dot_topn 1.2.0: {sdt['seconds']:.2f} s ({sdt['cpu_seconds']:.2f} s CPU), "
              f"{pairs / sdt['seconds']:.3g} pairs/s, "
              f"peak RSS {sdt['peak_rss'] / 2**20:.0f} MiB ({(sdt['peak_rss'] - sdt['input_peak_rss']) / 2**20:.0f} MiB "
              f"above the loaded input)", flush=True)

        ps_out = os.path.join(tmp, f"{option}-papersim.bin")
        r = subprocess.run([args.sim_bench, "--mtx", csr, "-k", str(args.k), "--threads", str(args.threads),
                            "--head-dim", str(args.head_dim), "--out-topk", ps_out],
                           check=True, capture_output=True, text=True)
        ps = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"papersim cpu: {ps['seconds']:.2f} s ({ps['cpu_seconds']:.2f} s CPU), {ps['pairs_per_s']:.3g} pairs/s, "
              f"head_dim {ps['head_dim']}, "
              f"{ps['tiles']} tiles, fallback rows {ps['fallback_rows']}, peak RSS {ps['peak_rss'] / 2**20:.0f} MiB "
              f"({(ps['peak_rss'] - ps['input_peak_rss']) / 2**20:.0f} MiB above the loaded input)", flush=True)
        ratio = sdt["seconds"] / ps["seconds"]
        cpu_ratio = sdt["cpu_seconds"] / ps["cpu_seconds"]
        print(f"ratio (sparse_dot_topn / papersim): {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU time "
              f"(CPU time is the fairer figure on a machine shared with other work)", flush=True)

        raw = np.fromfile(ps_out, dtype=np.uint8).reshape(n, args.k * 12)
        ps_docs = raw[:, : args.k * 8].copy().view(np.int64)
        ps_scores = raw[:, args.k * 8 :].copy().view(np.float32)
        got = np.load(sdt_out)
        agreement = compare(x, args.k, ps_docs, ps_scores, got["docs"], got["scores"])
        print("agreement:", json.dumps(agreement), flush=True)
        summary.append({"options": option, "n": n, "vocabulary": x.shape[1], "nnz": x.nnz,
                        "sparse_dot_topn": sdt, "papersim": ps, "ratio": ratio, "cpu_ratio": cpu_ratio, "agreement": agreement})
    print("\nsummary:", json.dumps(summary))


if __name__ == "__main__":
    main()
