#!/usr/bin/env python3
"""scikit-learn reference for papersim's index tests (frozen-model exactness).

  index_reference.py split FILE.jsonl.xz --a N --b M --out-a A.jsonl --out-b B.jsonl
      writes the first N rows with a non-blank title and summary to A and the
      next M such rows to B (the rows as they are).
  index_reference.py topk --a A.jsonl --b B.jsonl -k K --out-all ALL.tsv --out-cross CROSS.tsv
      fits TfidfVectorizer() (float64) on A's texts (title + "\\n" + summary,
      as papersim reads them) and transforms A and B with it; ALL.tsv gets every
      row of A+B's top-k over A+B (itself excluded), CROSS.tsv every B row's
      top-k over A (B rows numbered from 0). Lines: doc, neighbour, score
      (float64 repr); neighbours by score desc, then lower doc; score > 0 only.
  index_reference.py check --a A.jsonl --b B.jsonl -t T --out MATCHES.tsv
      the dual-submission check against an index of A: TfidfVectorizer()
      (float64) fitted on A's texts only, B (the submissions) transformed with
      it; MATCHES.tsv gets every B row's matches >= T among the other B rows
      (side "submission") and among A (side "published"). Lines: submission,
      side, doc (B or A row), score (float64 repr).
"""
import argparse
import json
import lzma
import sys


def blank(s):
    return not isinstance(s, str) or s.strip(" \t\n\v\f\r") == ""


def split(args):
    a, b = [], []
    with lzma.open(args.file, "rt", encoding="utf-8") as f:
        for line in f:
            if len(b) >= args.b:
                break
            row = json.loads(line)
            if blank(row.get("title")) or blank(row.get("summary")):
                continue
            (a if len(a) < args.a else b).append(line if line.endswith("\n") else line + "\n")
    for path, rows in ((args.out_a, a), (args.out_b, b)):
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            out.writelines(rows)


def texts(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            out.append(row["title"] + "\n" + row["summary"])
    return out


def write_topk(path, scores, k, exclude_self):
    import numpy as np

    with open(path, "w") as out:
        for i in range(scores.shape[0]):
            row = scores[i]
            if exclude_self:
                row = row.copy()
                row[i] = 0.0
            cand = np.nonzero(row > 0)[0]
            order = cand[np.lexsort((cand, -row[cand]))][:k]
            for j in order:
                out.write("%d\t%d\t%r\n" % (i, j, float(row[j])))


def topk(args):
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer

    ta, tb = texts(args.a), texts(args.b)
    vec = TfidfVectorizer(dtype=np.float64).fit(ta)
    xa, xb = vec.transform(ta), vec.transform(tb)
    x = sp.vstack([xa, xb]).tocsr()
    write_topk(args.out_all, (x @ x.T).toarray(), args.k, True)
    write_topk(args.out_cross, (xb @ xa.T).toarray(), args.k, False)


def check(args):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    ta, tb = texts(args.a), texts(args.b)
    vec = TfidfVectorizer(dtype=np.float64).fit(ta)
    xa, xb = vec.transform(ta), vec.transform(tb)
    self_scores = (xb @ xb.T).toarray()
    np.fill_diagonal(self_scores, 0.0)
    cross_scores = (xb @ xa.T).toarray()
    with open(args.out, "w") as out:
        for side, scores in (("submission", self_scores), ("published", cross_scores)):
            for s, d in zip(*np.nonzero(scores >= args.t)):
                out.write("%d\t%s\t%d\t%r\n" % (s, side, d, float(scores[s, d])))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("split")
    p.add_argument("file")
    p.add_argument("--a", type=int, required=True)
    p.add_argument("--b", type=int, required=True)
    p.add_argument("--out-a", required=True)
    p.add_argument("--out-b", required=True)
    p = sub.add_parser("topk")
    p.add_argument("--a", required=True)
    p.add_argument("--b", required=True)
    p.add_argument("-k", type=int, required=True)
    p.add_argument("--out-all", required=True)
    p.add_argument("--out-cross", required=True)
    p = sub.add_parser("check")
    p.add_argument("--a", required=True)
    p.add_argument("--b", required=True)
    p.add_argument("-t", type=float, required=True)
    p.add_argument("--out", required=True)
    args = parser.parse_args()
    {"split": split, "topk": topk, "check": check}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
