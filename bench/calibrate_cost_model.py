#!/usr/bin/env python3
"""Fit a backend's cost-model constants (sim/plan.hpp CostModel) to measured runs.

Input: the JSON lines of one or more `sim_bench --mtx X --model-terms
--sweep-head 0,64,...` runs (optionally with --queries Q for cross joins): each
run prints its model terms (pairs·D, tail products, head rows built·D, tiles)
then its timing. The fit is a non-negative least squares of the CPU seconds
(all threads; wall time is unreliable on a shared machine) on

    cpu_seconds = base[run set] + head·pairs·D + tail·products
                  + head_row·rows_built·D + tile·tiles

with one free `base` per input file (reading, split and finalize do not
depend on D). Prints the constants in seconds and in units of `head` (what
the backend's kCost holds).

    python3 bench/calibrate_cost_model.py cal-1k.jsonl cal-100.jsonl cal-self.jsonl
"""
import json
import sys

import numpy as np
from scipy.optimize import nnls


def runs(path):
    terms = None
    for line in open(path):
        d = json.loads(line)
        if "model_head" in d:
            terms = d
        elif terms is not None:
            yield terms, d
            terms = None


def main(paths):
    rows, y, labels = [], [], []
    for f, path in enumerate(paths):
        for t, r in runs(path):
            base = [0.0] * len(paths)
            base[f] = 1.0
            rows.append(base + [t["model_head"], t["model_tail"], t["model_head_rows"],
                                t["model_tiles"]])
            y.append(r["cpu_seconds"])
            labels.append(f"{path} D={r['head_dim']}")
    a = np.array(rows)
    b = np.array(y)
    # Scale columns so the solver sees numbers of similar size.
    scale = np.maximum(a.max(axis=0), 1e-30)
    coef, _ = nnls(a / scale, b)
    coef = coef / scale
    n = len(paths)
    names = ["head", "tail", "head_row", "tile"]
    fitted = a @ coef
    for lab, want, got in zip(labels, b, fitted):
        print(f"{lab:40s} measured {want:8.3f} s  model {got:8.3f} s")
    for i, p in enumerate(paths):
        print(f"base[{p}] = {coef[i]:.3f} s")
    for j, name in enumerate(names):
        print(f"{name:9s} {coef[n + j]:.4g} s", end="")
        if coef[n] > 0:
            print(f"   = {coef[n + j] / coef[n]:.4g} head units")
        else:
            print()


if __name__ == "__main__":
    main(sys.argv[1:])
