#!/usr/bin/env python3
"""Cross-corpus top-k: the papersim command against sparse_dot_topn, side by side.

For each query count N (default 100, 1000, 10000; the first N lines of
--queries) against every document of --refs, on the same threads, two rows:
  * `--against`: the whole command `papersim related QN --against REFS -k K
    --backend cpu --threads T` (reading, TF-IDF fitted on queries and
    references, pairs and writing included), in a child process; its summary
    gives the pairs time and the peak RSS (VmHWM); against it
    sp_matmul_topn(Q, R.T, top_n=K, n_threads=T) on the same TF-IDF matrices
    (`papersim vectorize QN REFS`: fitted on the union, as --against does; rows
    [0, N) are Q, the rest R), in a child process; only the call is timed (R.T
    is built before);
  * `--index`: the whole command `papersim related QN --index REFS.psx ...`
    against a saved index of the references (`papersim index build REFS`, built
    once before the runs and timed apart); against it sp_matmul_topn on that
    index's matrices (R: `papersim vectorize REFS`, the rows the index holds;
    Q: `papersim vectorize QN --index REFS.psx`, the queries under its model).
Each tool runs --repeat times per row (default 3), alternating with the other,
and the row gives each one's run of median wall time (and every run's time).
Each row gives both times, the ratio and the top-k agreement (rows whose
neighbour sets are identical; differing sets are checked for ties by float64
scores), and the table is written as Markdown with --out.

Needs a Python with scipy and sparse_dot_topn==1.2.0 (comparison only):
  /usr/bin/python3 -m venv --system-site-packages /tmp/sdt-venv
  /tmp/sdt-venv/bin/pip install sparse_dot_topn==1.2.0
  papersim synth --docs 300000 --seed 11 -o refs.jsonl
  papersim synth --docs 10000 --seed 12 -o queries.jsonl
  nice /tmp/sdt-venv/bin/python bench/cross_vs_sparse_dot_topn.py --papersim build/papersim \\
      --queries queries.jsonl --refs refs.jsonl --threads 2 --out bench/results/cross-vs-sparse-dot-topn.md
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cpu_vs_sparse_dot_topn import peak_rss  # noqa: E402  (VmHWM, shared with the self-join bench)


def read_mtx(path):
    """Matrix Market coordinate file (as `papersim vectorize --out-matrix` writes) -> CSR float32."""
    with open(path, "rb") as f:
        line = f.readline()
        while line.startswith(b"%"):
            line = f.readline()
        rows, cols, nnz = (int(v) for v in line.split())
        flat = np.fromfile(f, sep=" ")
    flat = flat.reshape(-1, 3)
    if flat.shape[0] != nnz:
        raise SystemExit(f"{path}: expected {nnz} entries, read {flat.shape[0]}")
    x = sp.csr_matrix((flat[:, 2].astype(np.float32), (flat[:, 0].astype(np.int64) - 1,
                                                       flat[:, 1].astype(np.int64) - 1)),
                      shape=(rows, cols))
    x.sort_indices()
    return x


def run_sdt_child(npz_q, npz_r, k, threads, out):
    """Child process: load Q and R, time sp_matmul_topn(Q, R.T), save the top-k column ids."""
    from sparse_dot_topn import sp_matmul_topn

    q = sp.load_npz(npz_q).astype(np.float32).tocsr()
    rt = sp.load_npz(npz_r).astype(np.float32).T.tocsr()
    rss0 = peak_rss()
    u0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    c = sp_matmul_topn(q, rt, top_n=k, n_threads=threads)
    seconds = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
    rss1 = peak_rss()
    c = c.tocsr()
    docs = np.full((q.shape[0], k), -1, dtype=np.int64)
    for i in range(q.shape[0]):
        lo, hi = c.indptr[i], c.indptr[i + 1]
        cols, vals = c.indices[lo:hi], c.data[lo:hi]
        order = np.lexsort((cols, -vals))[:k]
        docs[i, : len(order)] = cols[order]
    np.save(out, docs)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "input_peak_rss": rss0, "peak_rss": rss1}))


def papersim_topk(path, n, k, offset):
    """Neighbour reference rows (0-based within R) per query of a `related` JSONL output
    (neighbour docs are R's rows + `offset`: N after --against, 0 after --index)."""
    docs = np.full((n, k), -1, dtype=np.int64)
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            nb = [d["doc"] - offset for d in row["neighbors"]][:k]
            docs[row["doc"], : len(nb)] = nb
    return docs


def agreement(q, r, ps, sdt):
    same = 0
    ties = 0
    other = 0
    for i in range(q.shape[0]):
        a, b = ps[i][ps[i] >= 0], sdt[i][sdt[i] >= 0]
        if set(a) == set(b):
            same += 1
            continue
        qi = q[i].astype(np.float64)
        sa = np.sort(np.asarray((r[a].astype(np.float64) @ qi.T).todense()).ravel())[::-1]
        sb = np.sort(np.asarray((r[b].astype(np.float64) @ qi.T).todense()).ravel())[::-1]
        m = min(len(sa), len(sb))
        if len(sa) == len(sb) and (m == 0 or np.max(np.abs(sa[:m] - sb[:m])) <= 1e-5):
            ties += 1
        else:
            other += 1
    return same, ties, other


SUMMARY = {
    "pairs": re.compile(r"pairs evaluated\s+([\d,]+) in ([\d.]+) s"),
    "head": re.compile(r"head D=(\d+)"),
    "peak": re.compile(r"peak memory\s+([\d.]+) (KiB|MiB|GiB|B)"),
    "readvec": re.compile(r"read / vectorize\s+([\d.]+) s / ([\d.]+) s"),
    "load": re.compile(r"terms, loaded in ([\d.]+) s"),
}
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}


def run_papersim(binary, qfile, refs, k, threads, out, index=None):
    side = ["--index", index] if index else ["--against", refs]
    cmd = [binary, "related", qfile, *side, "-k", str(k), "--backend", "cpu",
           "--threads", str(threads), "-o", out]
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    s = r.stderr
    m = SUMMARY["pairs"].search(s)
    peak = SUMMARY["peak"].search(s)
    rv = SUMMARY["readvec"].search(s)
    load = SUMMARY["load"].search(s)
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "pairs": int(m.group(1).replace(",", "")),
        "pairs_seconds": float(m.group(2)),
        # The kernel: the dense-queries one (few queries), or the tiles' head size.
        "head_dim": "dense queries" if "(dense queries" in s
                    else "D=" + SUMMARY["head"].search(s).group(1),
        "peak_rss": float(peak.group(1)) * UNITS[peak.group(2)],
        "read_seconds": float(rv.group(1)) + (float(load.group(1)) if load else 0.0),
        "tfidf_seconds": float(rv.group(2)),
    }


def vectorize(binary, inputs, threads, out_mtx, index=None):
    """TF-IDF rows of `inputs` as CSR (fitted on them, or under a saved index's model)."""
    extra = ["--index", index] if index else []
    subprocess.run([binary, "vectorize", *inputs, *extra, "--out-matrix", out_mtx, "-q",
                    "--threads", str(threads)], check=True)
    x = read_mtx(out_mtx)
    os.remove(out_mtx)
    return x


def run_sdt(tmp, q, r, k, threads):
    npz_q, npz_r = os.path.join(tmp, "q.npz"), os.path.join(tmp, "r.npz")
    sp.save_npz(npz_q, q, compressed=False)
    sp.save_npz(npz_r, r, compressed=False)
    sdt_out = os.path.join(tmp, "sdt.npy")
    res = subprocess.run([sys.executable, __file__, "--sdt-child", npz_q, npz_r, sdt_out, "-k", str(k),
                          "--threads", str(threads)], check=True, capture_output=True, text=True)
    sdt = json.loads(res.stdout.strip().splitlines()[-1])
    sdt["docs"] = np.load(sdt_out)
    return sdt


def median_run(runs):
    """The run of median wall time (with an even count, the faster of the middle two)."""
    return sorted(runs, key=lambda x: x["seconds"])[(len(runs) - 1) // 2]


def side_by_side(repeat, papersim, sdt):
    """Each tool `repeat` times, alternating (so a slow spell of the machine hits both); the
    median run of each, with every run's wall seconds."""
    ps_runs, sdt_runs = [], []
    for _ in range(repeat):
        ps_runs.append(papersim())
        sdt_runs.append(sdt())
    ps, sd = dict(median_run(ps_runs)), dict(median_run(sdt_runs))
    ps["all"] = [x["seconds"] for x in ps_runs]
    sd["all"] = [x["seconds"] for x in sdt_runs]
    return ps, sd


def table_row(mode, n, r, ps, sdt, agree):
    same, ties, other = agree
    ratio = sdt["seconds"] / ps["seconds"]
    ratio_cpu = sdt["cpu_seconds"] / ps["cpu_seconds"]
    return (f"| {mode} | {n:,} | {r.shape[0]:,} | {ps['seconds']:.2f} s ({ps['cpu_seconds']:.2f} s) | "
            f"{ps['read_seconds']:.2f} / {ps['tfidf_seconds']:.2f} / {ps['pairs_seconds']:.2f} s | "
            f"{ps['head_dim']} | {ps['peak_rss'] / 2**20:.0f} MiB | {sdt['seconds']:.2f} s "
            f"({sdt['cpu_seconds']:.2f} s) | {sdt['peak_rss'] / 2**20:.0f} MiB | "
            f"**{ratio:.2f}x / {ratio_cpu:.2f}x** | {same}/{n} (+{ties} ties, {other} other) | "
            f"{' '.join(f'{x:.2f}' for x in ps['all'])} / {' '.join(f'{x:.2f}' for x in sdt['all'])} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--papersim", help="the papersim executable")
    ap.add_argument("--queries", help="JSONL of query documents (the first N are used)")
    ap.add_argument("--refs", help="JSONL of reference documents")
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each tool per row, alternating; the median run is reported")
    ap.add_argument("--out", help="Markdown file for the table")
    ap.add_argument("--sdt-child", nargs=3, metavar=("Q", "R", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sdt_child:
        run_sdt_child(*args.sdt_child[:2], args.k, args.threads, args.sdt_child[2])
        return

    import sparse_dot_topn

    tmp = tempfile.mkdtemp(prefix="papersim-cross-")
    with open(args.queries) as f:
        queries = f.readlines()
    index = os.path.join(tmp, "refs.psx")
    t0 = time.perf_counter()
    subprocess.run([args.papersim, "index", "build", args.refs, "-o", index, "-q"], check=True)
    index_seconds = time.perf_counter() - t0
    r_index = vectorize(args.papersim, [args.refs], args.threads, os.path.join(tmp, "r.mtx"))
    rows = []
    header = (f"| mode | queries | references | papersim whole command, wall (CPU) | "
              f"(read or load / TF-IDF / pairs) | kernel | papersim peak RSS | sp_matmul_topn, wall (CPU) | "
              f"sdt peak RSS | ratio wall / CPU | identical top-{args.k} sets | every run, wall s (papersim / sdt) |")
    print(f"index of the references built in {index_seconds:.2f} s", flush=True)
    print(header, flush=True)
    for n in (int(v) for v in args.sizes.split(",")):
        qfile = os.path.join(tmp, f"q{n}.jsonl")
        with open(qfile, "w") as f:
            f.writelines(queries[:n])
        ps_out = os.path.join(tmp, f"ps{n}.jsonl")

        x = vectorize(args.papersim, [qfile, args.refs], args.threads, os.path.join(tmp, "x.mtx"))
        q, r = x[:n], x[n:]
        ps, sdt = side_by_side(
            args.repeat,
            lambda: run_papersim(args.papersim, qfile, args.refs, args.k, args.threads, ps_out),
            lambda: run_sdt(tmp, q, r, args.k, args.threads))
        agree = agreement(q, r, papersim_topk(ps_out, n, args.k, n), sdt["docs"])
        rows.append(table_row("--against", n, r, ps, sdt, agree))
        print(rows[-1], flush=True)

        q = vectorize(args.papersim, [qfile], args.threads, os.path.join(tmp, "q.mtx"), index)
        ps, sdt = side_by_side(
            args.repeat,
            lambda: run_papersim(args.papersim, qfile, args.refs, args.k, args.threads, ps_out, index),
            lambda: run_sdt(tmp, q, r_index, args.k, args.threads))
        agree = agreement(q, r_index, papersim_topk(ps_out, n, args.k, 0), sdt["docs"])
        rows.append(table_row("--index", n, r_index, ps, sdt, agree))
        print(rows[-1], flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write(f"# Cross-corpus top-{args.k}: papersim vs sparse_dot_topn {sparse_dot_topn.__version__}\n\n")
            f.write(f"{args.threads} threads each, `bench/cross_vs_sparse_dot_topn.py --sizes {args.sizes}`; "
                    f"queries {os.path.basename(args.queries)}, references {os.path.basename(args.refs)}.\n"
                    "papersim: the whole command (`related --against`: reading, TF-IDF fitted on both, pairs, "
                    "output; `related --index`: loading the saved index, reading and vectorizing the queries, "
                    f"pairs, output; the index was built once in {index_seconds:.2f} s); "
                    "sparse_dot_topn: the `sp_matmul_topn(Q, R.T, top_n=k)` call only, on the same matrices. "
                    f"Each tool ran {args.repeat} times per row, alternating; the row gives the run of "
                    "median wall time of each. "
                    "Ratio = sparse_dot_topn seconds / papersim seconds (wall, and CPU time of all threads: "
                    "steadier when other jobs share the machine).\n\n")
            f.write(header + "\n|" + "---|" * 12 + "\n")
            for row in rows:
                f.write(row + "\n")


if __name__ == "__main__":
    main()
