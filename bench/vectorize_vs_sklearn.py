#!/usr/bin/env python3
"""papersim vectorize vs Python json + scikit-learn TfidfVectorizer, side by side.

Both read the same decompressed arxiv-daily JSON Lines file and build the same
TF-IDF matrix (document text = title + "\\n" + summary, scikit-learn defaults for
--preset sklearn). Prints wall time, peak resident memory of each child process,
the matrix shapes and the speed ratio.

  bench/vectorize_vs_sklearn.py --bin build/papersim [--data ../shared/data]
      [--preset sklearn] [--threads 0] [--python /usr/bin/python3] [--repeat 3]

The papersim side is run twice: without outputs (load + vectorize only) and with
--out-matrix (Matrix Market text written to a temporary file). The scikit-learn
side is timed as json parsing plus fit_transform, in one child process.
"""
import argparse
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import time

SKLEARN_CHILD = r"""
import json, sys, time
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
path, preset = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
texts = []
with open(path, encoding="utf-8") as f:
    for line in f:
        r = json.loads(line)
        texts.append((r.get("title") or "") + "\n" + (r.get("abstract") or r.get("summary") or ""))
t1 = time.perf_counter()
kw = {} if preset == "sklearn" else {"stop_words": "english", "sublinear_tf": True}
x = TfidfVectorizer(dtype=np.float32, **kw).fit_transform(texts)
t2 = time.perf_counter()
print(json.dumps({"json_s": t1 - t0, "fit_s": t2 - t1, "rows": x.shape[0], "cols": x.shape[1], "nnz": int(x.nnz)}))
"""


def run_measured(cmd):
    """Runs cmd with its own rusage: (wall seconds, peak RSS bytes, stdout, stderr, CPU seconds)."""
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read().decode(errors="replace"), fe.read().decode(errors="replace")
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss * 1024, out, err, usage.ru_utime + usage.ru_stime


def mtx_header(path):
    with open(path, encoding="ascii") as f:
        for line in f:
            if not line.startswith("%"):
                rows, cols, nnz = (int(v) for v in line.split())
                return rows, cols, nnz
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("PAPERSIM_BIN"), help="papersim executable")
    ap.add_argument("--data", default=os.environ.get("PAPERSIM_DATA_DIR", "../shared/data"))
    ap.add_argument("--input", help="decompressed JSON Lines file (default: decompress arxiv-daily)")
    ap.add_argument("--preset", choices=["sklearn", "abstracts"], default="sklearn")
    ap.add_argument("--threads", type=int, default=0, help="papersim threads (0 = all cores)")
    ap.add_argument("--python", default="/usr/bin/python3", help="a python3 with scikit-learn")
    ap.add_argument("--repeat", type=int, default=3, help="papersim runs (best is reported)")
    ap.add_argument("--skip-sklearn", action="store_true")
    args = ap.parse_args()
    if not args.bin:
        sys.exit("--bin (or PAPERSIM_BIN) is required")

    tmp = tempfile.mkdtemp(prefix="papersim-vec-bench-")
    try:
        path = args.input
        if path is None:
            path = os.path.join(tmp, "arxiv-daily.jsonl")
            with lzma.open(os.path.join(args.data, "arxiv-daily", "arxiv-daily.jsonl.xz")) as src, \
                    open(path, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        print(f"input: {path} ({os.path.getsize(path):,} bytes), cores: {os.cpu_count()}")

        base = [args.bin, "vectorize", path, "--preset", args.preset, "--threads", str(args.threads)]
        mtx = os.path.join(tmp, "x.mtx")
        best = {}
        for label, extra in [("load + vectorize", []), ("load + vectorize + write .mtx", ["--out-matrix", mtx])]:
            runs = [run_measured(base + extra) for _ in range(args.repeat)]
            wall, rss, out, err, cpu = min(runs, key=lambda r: r[0])
            best[label] = (wall, rss)
            print(f"papersim {label}: {wall:.2f} s wall (best of {args.repeat}), {cpu:.2f} s CPU, "
                  f"peak RSS {rss / 2**20:.0f} MiB")
        print("papersim summary (last run):")
        print("  " + (out + err).strip().replace("\n", "\n  "))
        shape = mtx_header(mtx)
        print(f"papersim matrix: rows {shape[0]:,} cols {shape[1]:,} nnz {shape[2]:,}")

        if not args.skip_sklearn:
            wall, rss, out, _, cpu = run_measured([args.python, "-c", SKLEARN_CHILD, path, args.preset])
            r = json.loads(out.strip().splitlines()[-1])
            print(f"scikit-learn: json {r['json_s']:.2f} s + fit_transform {r['fit_s']:.2f} s "
                  f"= {r['json_s'] + r['fit_s']:.2f} s (process {wall:.2f} s wall, {cpu:.2f} s CPU), "
                  f"peak RSS {rss / 2**20:.0f} MiB")
            print(f"scikit-learn matrix: rows {r['rows']:,} cols {r['cols']:,} nnz {r['nnz']:,}")
            ref = r["json_s"] + r["fit_s"]
            for label, (w, _) in best.items():
                print(f"speed-up, papersim {label} vs json + fit_transform: {ref / w:.1f}x")
            if args.preset == "sklearn" and shape != (r["rows"], r["cols"], r["nnz"]):
                print("WARNING: matrix shapes differ")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
