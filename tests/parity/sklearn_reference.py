#!/usr/bin/env python3
"""scikit-learn reference for papersim's TF-IDF parity tests.

Texts travel in a length-prefixed file (for each document: its UTF-8 byte
length on a line, the bytes, a newline), so no JSON parser is needed in C++.

  sklearn_reference.py extract-arxiv FILE.jsonl.xz --limit N --out texts.bin
      writes title + "\\n" + summary of the first N rows.
  sklearn_reference.py fit --texts texts.bin --options sets.json --out-dir DIR
      sets.json holds a list of TfidfVectorizer keyword-argument objects; for
      set i, DIR/i.txt receives the fitted vocabulary, idf and CSR matrix:
        vocab <cols>            then one term per line
        idf <cols>              then the values on one line (absent without idf)
        csr <rows> <cols> <nnz> then indptr, indices and data, one line each
"""
import argparse
import json
import lzma
import os
import sys


def read_texts(path):
    texts = []
    with open(path, "rb") as f:
        while True:
            header = f.readline()
            if not header:
                break
            n = int(header)
            texts.append(f.read(n).decode("utf-8"))
            f.read(1)
    return texts


def write_texts(path, texts):
    with open(path, "wb") as f:
        for t in texts:
            b = t.encode("utf-8")
            f.write(b"%d\n" % len(b))
            f.write(b)
            f.write(b"\n")


def extract_arxiv(args):
    texts = []
    with lzma.open(args.file, "rt", encoding="utf-8") as f:
        for line in f:
            if len(texts) >= args.limit:
                break
            row = json.loads(line)
            texts.append((row.get("title") or "") + "\n" + (row.get("summary") or ""))
    write_texts(args.out, texts)


def fit(args):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = read_texts(args.texts)
    with open(args.options, encoding="utf-8") as f:
        option_sets = json.load(f)
    os.makedirs(args.out_dir, exist_ok=True)
    for i, opts in enumerate(option_sets):
        kwargs = dict(opts)
        if "ngram_range" in kwargs:
            kwargs["ngram_range"] = tuple(kwargs["ngram_range"])
        vec = TfidfVectorizer(dtype=np.float64, **kwargs)
        x = vec.fit_transform(texts).tocsr()
        x.sort_indices()
        vocab = vec.get_feature_names_out()
        with open(os.path.join(args.out_dir, "%d.txt" % i), "w", encoding="utf-8", newline="\n") as out:
            out.write("vocab %d\n" % len(vocab))
            for term in vocab:
                out.write(term + "\n")
            if vec.use_idf:
                out.write("idf %d\n" % len(vec.idf_))
                out.write(" ".join(repr(float(v)) for v in vec.idf_) + "\n")
            out.write("csr %d %d %d\n" % (x.shape[0], x.shape[1], x.nnz))
            out.write(" ".join(str(int(v)) for v in x.indptr) + "\n")
            out.write(" ".join(str(int(v)) for v in x.indices) + "\n")
            out.write(" ".join(repr(float(v)) for v in x.data) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract-arxiv")
    p.add_argument("file")
    p.add_argument("--limit", type=int, default=3000)
    p.add_argument("--out", required=True)
    p = sub.add_parser("fit")
    p.add_argument("--texts", required=True)
    p.add_argument("--options", required=True)
    p.add_argument("--out-dir", required=True)
    args = parser.parse_args()
    if args.command == "extract-arxiv":
        extract_arxiv(args)
    else:
        fit(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
