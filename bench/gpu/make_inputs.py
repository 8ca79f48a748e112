#!/usr/bin/env python3
"""Real-text inputs for the GPU parity checks and benchmarks, vectorized with
scikit-learn (float32, L2-normalized rows, English stop words removed):

  make_inputs.py seeds SEED_DIR OUT.mtx         every non-empty line of the seed pages
                                                 is one document (titles and abstracts;
                                                 repeated papers give exact ties)
  make_inputs.py arxiv ARXIV.jsonl.xz OUT.csrbin  the distinct arXiv-daily abstracts
                                                 (first row of each id), title + summary

.csrbin: int64 rows, cols, nnz; int64 indptr[rows+1]; int32 indices; float32 data.
"""
import json
import lzma
import pathlib
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer


def vectorize(texts):
    x = TfidfVectorizer(stop_words="english", dtype=np.float32).fit_transform(texts).tocsr()
    x.sort_indices()
    return x


def main():
    kind, src, out = sys.argv[1:4]
    if kind == "seeds":
        texts = []
        for f in sorted(pathlib.Path(src).glob("*.txt")):
            texts += [l.strip() for l in f.read_text(encoding="utf-8").splitlines() if len(l.strip()) > 20]
        x = vectorize(texts)
        with open(out, "w") as fh:
            fh.write("%%MatrixMarket matrix coordinate real general\n")
            fh.write(f"{x.shape[0]} {x.shape[1]} {x.nnz}\n")
            coo = x.tocoo()
            for r, c, v in zip(coo.row, coo.col, coo.data):
                fh.write(f"{r + 1} {c + 1} {float(v):.9g}\n")
    elif kind == "arxiv":
        seen, texts = set(), []
        with lzma.open(src, "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row["id"] in seen:
                    continue
                seen.add(row["id"])
                texts.append((row.get("title") or "") + "\n" + (row.get("summary") or ""))
        x = vectorize(texts)
        with open(out, "wb") as fh:
            np.array([x.shape[0], x.shape[1], x.nnz], dtype=np.int64).tofile(fh)
            x.indptr.astype(np.int64).tofile(fh)
            x.indices.astype(np.int32).tofile(fh)
            x.data.astype(np.float32).tofile(fh)
    else:
        sys.exit("usage: make_inputs.py seeds|arxiv SRC OUT")
    print(f"{out}: {x.shape[0]} rows, {x.shape[1]} cols, {x.nnz} nnz", file=sys.stderr)


if __name__ == "__main__":
    main()
