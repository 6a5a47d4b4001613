#!/usr/bin/env python3
"""Makes tab-score's reference fixtures (Tests/TabScoreTests/Fixtures/).

For a few fixed real/synthetic pairs (samples of the shared benchmark tables, perturbed
deterministically), it writes the two CSVs and the expected figures:
  - column shapes and column-pair trends per column and per pair, from SDMetrics'
    QualityReport (the library TabSyn uses; the version is stored with the figures);
  - alpha-precision / beta-recall (TabSyn's "naive" variant of synthcity's AlphaPrecision) and
    the DCR share, from straightforward numpy implementations of the published definitions
    written here, independently of the Swift code.
Run: bench/.venv/bin/python bench/score/make_fixtures.py   (needs sdmetrics, pandas, numpy)
"""
import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import sdmetrics
import warnings
warnings.filterwarnings("ignore", category=FutureWarning)
from sdmetrics.reports.single_table import QualityReport

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(ROOT, "Tests", "TabScoreTests", "Fixtures")
MARKERS = ["", "NA", "NaN", "?", "null"]


def read_raw(path):
    if path.endswith(".zst"):
        text = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
        return pd.read_csv(io.BytesIO(text), dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def infer_kinds(frame):
    """tab-encode's inference, simplified to what these tables need: a column is numerical
    when every non-missing cell is a number, unless they are integers with <= 20 values."""
    kinds = {}
    for name in frame.columns:
        cells = frame[name][~frame[name].isin(MARKERS)]
        try:
            values = cells.astype(float)
        except ValueError:
            kinds[name] = "categorical"
            continue
        integers = all(c.lstrip("-").isdigit() for c in cells)
        kinds[name] = "categorical" if integers and values.nunique() <= 20 else "numerical"
    return kinds


def typed(frame, kinds):
    out = frame.copy()
    for name, kind in kinds.items():
        if kind == "numerical":
            out[name] = pd.to_numeric(out[name].where(~out[name].isin(MARKERS)), errors="raise")
    return out


def perturb(frame, kinds, rng, noise, swap, missing, novel):
    """Synthetic-looking copy: numeric noise (relative to the column's spread), category swaps
    to another observed label, some numeric cells made missing, one unseen label."""
    out = frame.copy().reset_index(drop=True)
    for name, kind in kinds.items():
        column = out[name].copy()
        present = ~column.isin(MARKERS)
        if kind == "numerical":
            values = pd.to_numeric(column[present])
            spread = float(values.std()) or 1.0
            decimals = max((len(c.split(".")[1]) if "." in c else 0) for c in column[present])
            jitter = rng.normal(0, noise * spread, size=len(values))
            moved = np.round(values.to_numpy() + jitter, decimals)
            column[present] = [f"{v:.{decimals}f}" for v in moved]
            drop = rng.random(len(column)) < missing
            column[drop] = "NA"
        else:
            labels = sorted(set(column))
            change = rng.random(len(column)) < swap
            column[change] = rng.choice(labels, size=int(change.sum()))
            if novel and name == novel:
                column[rng.random(len(column)) < 0.01] = "Unseen-label"
        out[name] = column
    return out


def one_hot_space(real, synthetic, kinds, drop_last):
    """TabSyn's alpha-precision features: [numerical (real-mean imputed) | one-hot(categorical,
    fitted on real, sorted; unknown -> zeros)], optionally without the very last indicator,
    min-max scaled on real (a zero range scales by 1)."""
    nums = [n for n, k in kinds.items() if k == "numerical"]
    cats = [n for n, k in kinds.items() if k == "categorical"]
    def build(frame):
        parts = []
        for n in nums:
            v = frame[n].to_numpy(dtype=float)
            v = np.where(np.isnan(v), np.nanmean(real[n].to_numpy(dtype=float)), v)
            parts.append(v[:, None])
        for n in cats:
            labels = sorted(set(real[n]), key=lambda s: s.encode())
            parts.append(np.stack([(frame[n].to_numpy() == l).astype(float) for l in labels], axis=1))
        return np.concatenate(parts, axis=1)
    x, y = build(real), build(synthetic)
    if drop_last:
        x, y = x[:, :-1], y[:, :-1]
    low, high = x.min(axis=0), x.max(axis=0)
    scale = np.where(high - low == 0, 1.0, high - low)
    return (x - low) / scale, (y - low) / scale


def alpha_beta(real, synthetic, kinds):
    x, y = one_hot_space(real, synthetic, kinds, drop_last=True)
    alphas = np.linspace(0, 1, 30)
    center = x.mean(axis=0)
    radii = np.quantile(np.sqrt(((x - center) ** 2).sum(axis=1)), alphas)
    synth_center = y.mean(axis=0)
    synth_to_center = np.sqrt(((y - center) ** 2).sum(axis=1))
    rr = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(rr, np.inf)
    real_to_real = rr.min(axis=1)
    rs = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(axis=2))
    nearest = rs.argmin(axis=1)
    real_to_synth = rs[np.arange(len(x)), nearest]
    closest_d = np.sqrt(((y[nearest] - synth_center) ** 2).sum(axis=1))
    closest_radii = np.quantile(closest_d, alphas)
    precision = [np.mean(synth_to_center <= r) for r in radii]
    coverage = [np.mean((real_to_synth <= real_to_real) * (closest_d <= r)) for r in closest_radii]
    a = 1 - np.sum(np.abs(alphas - precision)) / np.sum(alphas)
    b = 1 - np.sum(np.abs(alphas - coverage)) / np.sum(alphas)
    return float(a), float(b)


def dcr(train, holdout, synthetic, kinds):
    """Share of synthetic rows whose L1 distance to the train rows is below that to the
    holdout rows; features numerical / (max - min over train) and one-hot fitted on train."""
    nums = [n for n, k in kinds.items() if k == "numerical"]
    cats = [n for n, k in kinds.items() if k == "categorical"]
    def build(frame):
        parts = []
        for n in nums:
            v = frame[n].to_numpy(dtype=float)
            t = train[n].to_numpy(dtype=float)
            v = np.where(np.isnan(v), np.nanmean(t), v)
            span = np.nanmax(t) - np.nanmin(t)
            parts.append((v / (span if span > 0 else 1.0))[:, None])
        for n in cats:
            labels = sorted(set(train[n]))
            parts.append(np.stack([(frame[n].to_numpy() == l).astype(float) for l in labels], axis=1))
        return np.concatenate(parts, axis=1)
    t, h, s = build(train), build(holdout), build(synthetic)
    d_train = np.abs(s[:, None, :] - t[None, :, :]).sum(axis=2).min(axis=1)
    d_holdout = np.abs(s[:, None, :] - h[None, :, :]).sum(axis=2).min(axis=1)
    return float(np.mean(d_train < d_holdout))


def logistic_full_fit(real, synthetic, kinds):
    """SDMetrics' LogisticDetection pipeline fitted once on every stacked row (no folds, so
    the figures do not depend on a fold split): HyperTransformer (numbers: NaN -> real mean;
    strings: one-hot fitted on real, unknown -> zeros), SimpleImputer, RobustScaler,
    LogisticRegression(lbfgs). Returns the training AUC and sklearn's objective
    0.5 |w|^2 + sum log-loss at its solution (C = 1)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import RobustScaler
    parts_real, parts_syn = [], []
    for n, k in kinds.items():
        if k == "numerical":
            mean = real[n].mean()
            parts_real.append(real[n].fillna(mean).to_numpy()[:, None])
            parts_syn.append(synthetic[n].fillna(mean).to_numpy()[:, None])
        else:
            labels = sorted(set(real[n]))
            parts_real.append(np.stack([(real[n].to_numpy() == l) for l in labels], axis=1).astype(float))
            parts_syn.append(np.stack([(synthetic[n].to_numpy() == l) for l in labels], axis=1).astype(float))
    x = np.concatenate([np.concatenate(parts_real, axis=1), np.concatenate(parts_syn, axis=1)])
    y = np.hstack([np.ones(len(real)), np.zeros(len(synthetic))])
    model = Pipeline([("imputer", SimpleImputer()), ("scalar", RobustScaler()),
                      ("classifier", LogisticRegression(solver="lbfgs", max_iter=10000, tol=1e-10))])
    model.fit(x, y)
    z = model.decision_function(x)
    w = model.named_steps["classifier"].coef_.ravel()
    objective = 0.5 * float(w @ w) + float(np.sum(np.logaddexp(0, z) - y * z))
    return float(roc_auc_score(y, z)), objective


def make_pair(name, source, columns, rows, seed, noise, swap, missing, novel):
    rng = np.random.default_rng(seed)
    raw = read_raw(os.path.join(DATA, source))
    if columns:
        raw = raw[columns]
    picks = rng.permutation(len(raw))
    real_raw = raw.iloc[picks[:rows]].reset_index(drop=True)
    holdout_raw = raw.iloc[picks[rows:2 * rows]].reset_index(drop=True)
    kinds = infer_kinds(real_raw)
    base = raw.iloc[picks[2 * rows:3 * rows]]
    synthetic_raw = perturb(base, kinds, rng, noise, swap, missing, novel)
    for frame, suffix in ((real_raw, "real"), (synthetic_raw, "synthetic"), (holdout_raw, "holdout")):
        frame.to_csv(os.path.join(OUT, f"{name}-{suffix}.csv"), index=False)
    real, synthetic, holdout = (typed(f, kinds) for f in (real_raw, synthetic_raw, holdout_raw))
    metadata = {"columns": {n: {"sdtype": k} for n, k in kinds.items()}}
    report = QualityReport()
    # SDMetrics >= 0.2x skips pairs whose real correlation/association is weak by default;
    # TabSyn (SDMetrics 0.11.1) and tab-score average over every pair.
    report.real_correlation_threshold = 0
    report.real_association_threshold = 0
    report.generate(real, synthetic, metadata, verbose=False)
    shapes = report.get_details("Column Shapes")
    trends = report.get_details("Column Pair Trends")
    alpha, beta = alpha_beta(real, synthetic, kinds)
    expected = {
        "made_by": "bench/score/make_fixtures.py",
        "sdmetrics_version": sdmetrics.__version__,
        "pandas_version": pd.__version__,
        "numpy_version": np.__version__,
        "source": source,
        "kinds": kinds,
        "shapes": [
            {"column": r["Column"], "metric": r["Metric"], "score": float(r["Score"])}
            for _, r in shapes.iterrows()
        ],
        "trends": [
            {"first": r["Column 1"], "second": r["Column 2"], "metric": r["Metric"],
             "score": None if pd.isna(r["Score"]) else float(r["Score"])}
            for _, r in trends.iterrows()
        ],
        "shape_score": float(report.get_properties().set_index("Property").loc["Column Shapes", "Score"]),
        "trend_score": float(report.get_properties().set_index("Property").loc["Column Pair Trends", "Score"]),
        "alpha_precision": alpha,
        "beta_recall": beta,
        "dcr_share": dcr(real, holdout, synthetic, kinds),
    }
    expected["logistic_full_fit_auc"], expected["logistic_full_fit_objective"] = logistic_full_fit(
        real, synthetic, kinds)
    import sklearn
    expected["sklearn_version"] = sklearn.__version__
    with open(os.path.join(OUT, f"{name}-expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(name, "shape", expected["shape_score"], "trend", expected["trend_score"], "alpha", alpha,
          "beta", beta, "dcr", expected["dcr_share"], file=sys.stderr)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_pair("adult", "adult.csv.zst", None, 400, 6, noise=0.15, swap=0.1, missing=0.03,
              novel="occupation")
    make_pair("beijing", "beijing.csv",
              ["year", "month", "hour", "pm2.5", "DEWP", "TEMP", "PRES", "cbwd", "Iws", "Is", "Ir"],
              300, 7, noise=0.3, swap=0.2, missing=0.05, novel=None)
