"""Train the `ctgan` package (PyPI, sdv-dev/CTGAN) on a CSV and report its seconds per epoch.

The time of the training loop is separated from the preprocessing (the Bayesian GMM fit and
the transform) by timing `DataTransformer.transform`'s end: CTGAN's epochs start right after.
Optionally writes sampled rows for the quality comparison (quality.py).

    bench/.venv/bin/python bench/gan/ctgan_fit.py adult.csv --epochs 5 --out ctgan.csv
"""

import argparse
import json
import sys
import time

import pandas as pd
import torch
from ctgan import CTGAN
from ctgan import data_transformer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--pac", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write this many sampled rows (--rows) to a CSV")
    parser.add_argument("--rows", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    # Every cell as text first, then the columns whose every cell is a number as numbers: pandas
    # would otherwise read TRUE/FALSE as booleans and write them back as True/False.
    data = pd.read_csv(args.csv, dtype=str, na_values=[], keep_default_na=False)
    for c in data.columns:
        numbers = pd.to_numeric(data[c], errors="coerce")
        if numbers.notna().all():
            data[c] = numbers
    # The same column kinds tab-encode infers: text columns and integer columns with at most
    # 20 distinct values are discrete.
    discrete = [
        c for c in data.columns
        if data[c].dtype == object or (data[c].dtype.kind in "iu" and data[c].nunique() <= 20)
    ]

    marks = {}
    original = data_transformer.DataTransformer.transform

    def timed_transform(self, raw):
        result = original(self, raw)
        marks["train_start"] = time.perf_counter()
        marks["train_cpu_start"] = time.process_time()
        return result

    data_transformer.DataTransformer.transform = timed_transform
    model = CTGAN(epochs=args.epochs, batch_size=args.batch, pac=args.pac, verbose=False)
    start = time.perf_counter()
    model.fit(data, discrete_columns=discrete)
    end = time.perf_counter()
    end_cpu = time.process_time()
    report = {
        "tool": "ctgan " + __import__("ctgan").__version__,
        "rows": len(data),
        "epochs": args.epochs,
        "preprocess_s": marks["train_start"] - start,
        "train_s": end - marks["train_start"],
        "s_per_epoch": (end - marks["train_start"]) / args.epochs,
        "cpu_s_per_epoch": (end_cpu - marks["train_cpu_start"]) / args.epochs,
        "threads": args.threads,
    }
    if args.out:
        model.sample(args.rows or len(data)).to_csv(args.out, index=False)
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
