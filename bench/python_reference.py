#!/usr/bin/env python3
"""The Python way to encode and decode a table, as TabSyn does it, timed phase by phase.

TabSyn's preprocessing (research/tabsyn.md §1.4) reads the CSV with pandas, maps numerical
columns through scikit-learn's QuantileTransformer to a standard normal and categorical columns
to ordinal codes; generation inverts both and writes a CSV with DataFrame.to_csv. This script
times those steps so bench/encode-speed.sh can compare tab-encode and tab-decode with them.

Modes (each prints one line per phase, "phase<TAB>wall seconds<TAB>CPU seconds", the best of
--repeat runs; CPU seconds are this process's, which matter when other work shares the cores):
  fit    CSV          read_csv, fit both transformers, transform (tab-encode without --encoder)
  save   CSV DIR      fit on CSV and pickle the transformers to DIR (untimed set-up for apply)
  apply  DIR CSV      read_csv, transform with the transformers in DIR (tab-encode --encoder)
  decode DIR CSV      untimed: encode CSV to arrays; timed: inverse of both + to_csv (tab-decode)
  generate CSV ROWS   write the "hard" table: 6 random floats with 6 decimals + 4 categories

Columns: --numerical names the numerical columns (default: adult's); every other column is
categorical, which is how tab-encode treats adult's education-num (an integer with 16 values).
"""

import argparse
import os
import pickle
import sys
import time

import numpy as np
import pandas as pd
from sklearn.preprocessing import OrdinalEncoder, QuantileTransformer

ADULT_NUMERICAL = ["age", "fnlwgt", "capital-gain", "capital-loss", "hours-per-week"]


def quantile_transformer(rows):
    """TabSyn's settings: n_quantiles from the row count, no subsampling, fixed seed."""
    return QuantileTransformer(
        output_distribution="normal",
        n_quantiles=max(min(rows // 30, 1000), 10),
        subsample=10**9,
        random_state=0,
    )


def split_columns(frame, numerical):
    missing = [name for name in numerical if name not in frame.columns]
    if missing:
        sys.exit(f"python_reference.py: no column {missing[0]!r} in the CSV")
    categorical = [name for name in frame.columns if name not in numerical]
    return numerical, categorical


def now():
    """Wall and CPU clocks together."""
    return np.array([time.perf_counter(), time.process_time()])


class Timer:
    """Collects the wall and CPU seconds of named phases; keeps the best of repeated runs."""

    def __init__(self):
        self.best = {}

    def record(self, phase, seconds):
        # dicts keep insertion order, so phases print in the order they ran.
        self.best[phase] = np.minimum(self.best.get(phase, seconds), seconds)

    def print(self):
        for phase, (wall, cpu) in self.best.items():
            print(f"{phase}\t{wall:.4f}\t{cpu:.4f}", flush=True)


def fit_once(path, numerical, timer):
    t0 = now()
    frame = pd.read_csv(path)
    t1 = now()
    numerical, categorical = split_columns(frame, numerical)
    quantile = quantile_transformer(len(frame))
    x_num = quantile.fit_transform(frame[numerical].to_numpy(dtype=np.float64))
    t2 = now()
    ordinal = OrdinalEncoder()
    x_cat = ordinal.fit_transform(frame[categorical])
    t3 = now()
    timer.record("read_csv", t1 - t0)
    timer.record("quantile_fit_transform", t2 - t1)
    timer.record("ordinal_fit_transform", t3 - t2)
    timer.record("total", t3 - t0)
    return quantile, ordinal, x_num, x_cat, frame.columns, numerical, categorical


def apply_once(path, model, timer):
    quantile, ordinal, numerical, categorical = model
    t0 = now()
    frame = pd.read_csv(path)
    t1 = now()
    x_num = quantile.transform(frame[numerical].to_numpy(dtype=np.float64))
    t2 = now()
    x_cat = ordinal.transform(frame[categorical])
    t3 = now()
    timer.record("read_csv", t1 - t0)
    timer.record("quantile_transform", t2 - t1)
    timer.record("ordinal_transform", t3 - t2)
    timer.record("total", t3 - t0)
    return x_num, x_cat


def decode_once(quantile, ordinal, x_num, x_cat, columns, numerical, categorical, timer):
    t0 = now()
    values_num = quantile.inverse_transform(x_num)
    t1 = now()
    values_cat = ordinal.inverse_transform(x_cat)
    t2 = now()
    frame = pd.DataFrame(values_num, columns=numerical)
    for j, name in enumerate(categorical):
        frame[name] = values_cat[:, j]
    frame = frame[list(columns)]
    with open(os.devnull, "w") as sink:
        frame.to_csv(sink, index=False)
    t3 = now()
    timer.record("quantile_inverse", t1 - t0)
    timer.record("ordinal_inverse", t2 - t1)
    timer.record("to_csv", t3 - t2)
    timer.record("total", t3 - t0)


def generate(path, rows, seed):
    """The hard table: values that rarely repeat, so no per-cell memo helps."""
    generator = np.random.default_rng(seed)
    columns = {
        "normal": generator.normal(50.0, 12.0, rows),
        "lognormal": generator.lognormal(8.0, 1.5, rows),
        "uniform": generator.uniform(-1000.0, 1000.0, rows),
        "exponential": generator.exponential(3.0, rows),
        "student": generator.standard_t(3.0, rows) * 100.0,
        "bimodal": np.where(
            generator.random(rows) < 0.3,
            generator.normal(-20.0, 2.0, rows),
            generator.normal(40.0, 5.0, rows),
        ),
    }
    frame = pd.DataFrame({name: np.round(values, 6) for name, values in columns.items()})
    for name, count in [("colour", 3), ("region", 12), ("product", 60), ("store", 400)]:
        # Zipf-like frequencies, as real categories have.
        weights = 1.0 / np.arange(1, count + 1)
        codes = generator.choice(count, size=rows, p=weights / weights.sum())
        labels = np.array([f"{name}-{k:03d}" for k in range(count)])
        frame[name] = labels[codes]
    frame.to_csv(path, index=False, float_format="%.6f")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["fit", "save", "apply", "decode", "generate"])
    parser.add_argument("args", nargs="+")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase; the best is printed")
    parser.add_argument("--numerical", default=",".join(ADULT_NUMERICAL),
                        help="comma-separated numerical columns; the rest are categorical")
    parser.add_argument("--seed", type=int, default=0, help="seed for generate")
    options = parser.parse_args()
    numerical = options.numerical.split(",")
    timer = Timer()

    if options.mode == "generate":
        path, rows = options.args
        generate(path, int(rows), options.seed)
        return
    if options.mode == "fit":
        (path,) = options.args
        for _ in range(options.repeat):
            fit_once(path, numerical, timer)
    elif options.mode == "save":
        path, directory = options.args
        quantile, ordinal, _, _, _, numerical, categorical = fit_once(path, numerical, timer)
        with open(os.path.join(directory, "python-model.pkl"), "wb") as file:
            pickle.dump((quantile, ordinal, numerical, categorical), file)
        return
    elif options.mode == "apply":
        directory, path = options.args
        with open(os.path.join(directory, "python-model.pkl"), "rb") as file:
            model = pickle.load(file)
        for _ in range(options.repeat):
            apply_once(path, model, timer)
    elif options.mode == "decode":
        directory, path = options.args
        fitted = fit_once(path, numerical, Timer())
        quantile, ordinal, x_num, x_cat, columns, numerical, categorical = fitted
        # TabSyn keeps float32 arrays between stages; decode starts from them.
        x_num = x_num.astype(np.float32)
        for _ in range(options.repeat):
            decode_once(quantile, ordinal, x_num, x_cat, columns, numerical, categorical, timer)
    timer.print()


if __name__ == "__main__":
    main()
