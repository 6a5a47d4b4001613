"""Quality of synthetic tables against the real one (until tab-score exists).

For each synthetic CSV: SDMetrics shape and trend scores (QualityReport), an XGBoost detector's
AUC at telling real from synthetic rows (5-fold; 0.5 = indistinguishable), machine-learning
efficiency (XGBoost trained on synthetic rows, AUC on the real test split), and category
balance: mean total variation distance of the categorical columns from the real marginals, and
the share of rare categories (< 1% of real rows) that appear at all.

    bench/.venv/bin/python bench/gan/quality.py real.csv test.csv TARGET name=synthetic.csv ...
"""

import sys

import numpy as np
import pandas as pd
import xgboost as xgb
from sdmetrics.reports.single_table import QualityReport
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold


def load(path, columns=None):
    frame = pd.read_csv(path, na_values=[], keep_default_na=False)
    return frame[columns] if columns is not None else frame


def kinds(real):
    return {
        c: ("categorical" if real[c].dtype == object or (real[c].dtype.kind in "iu" and real[c].nunique() <= 20)
            else "numerical")
        for c in real.columns
    }


def codes(frames, kind):
    """One matrix per frame with shared category codes."""
    out = [f.copy() for f in frames]
    for c, k in kind.items():
        if k == "categorical":
            categories = pd.Categorical(pd.concat([f[c].astype(str) for f in frames])).categories
            for f in out:
                f[c] = pd.Categorical(f[c].astype(str), categories=categories).codes
        else:
            for f in out:
                f[c] = pd.to_numeric(f[c], errors="coerce")
    return [f.to_numpy(dtype=float) for f in out]


def detector_auc(real, synthetic, kind, seed=0):
    n = min(len(real), len(synthetic))
    r = real.sample(n, random_state=seed)
    s = synthetic.sample(n, random_state=seed)
    x_r, x_s = codes([r, s], kind)
    x = np.vstack([x_r, x_s])
    y = np.r_[np.zeros(n), np.ones(n)]
    scores = []
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y):
        model = xgb.XGBClassifier(n_estimators=200, max_depth=6, n_jobs=2, verbosity=0)
        model.fit(x[train], y[train])
        scores.append(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1]))
    return float(np.mean(scores))


def mle_auc(synthetic, test, target, kind):
    features = [c for c in synthetic.columns if c != target]
    x_s, x_t = codes([synthetic[features], test[features]], {c: kind[c] for c in features})
    labels = sorted(test[target].astype(str).unique())
    y_s = (synthetic[target].astype(str) == labels[-1]).astype(int)
    y_t = (test[target].astype(str) == labels[-1]).astype(int)
    if y_s.nunique() < 2:
        return float("nan")
    model = xgb.XGBClassifier(n_estimators=200, max_depth=6, n_jobs=2, verbosity=0)
    model.fit(x_s, y_s)
    return float(roc_auc_score(y_t, model.predict_proba(x_t)[:, 1]))


def balance(real, synthetic, kind):
    tvds, rare, found = [], 0, 0
    for c, k in kind.items():
        if k != "categorical":
            continue
        p = real[c].astype(str).value_counts(normalize=True)
        q = synthetic[c].astype(str).value_counts(normalize=True)
        tvds.append(0.5 * p.sub(q, fill_value=0).abs().sum())
        for category, share in p.items():
            if share < 0.01:
                rare += 1
                found += int(q.get(category, 0) > 0)
    return float(np.mean(tvds)), (found / rare if rare else float("nan"))


def main():
    real_path, test_path, target = sys.argv[1:4]
    real = load(real_path)
    test = load(test_path, list(real.columns))
    kind = kinds(real)
    metadata = {"columns": {c: {"sdtype": k} for c, k in kind.items()}}
    print("| model | shape | trend | detector AUC | MLE AUC | category TVD | rare recall |")
    print("|---|---|---|---|---|---|---|")
    for item in sys.argv[4:]:
        name, path = item.split("=", 1)
        synthetic = load(path, list(real.columns))
        report = QualityReport()
        report.generate(real, synthetic, metadata, verbose=False)
        properties = report.get_properties().set_index("Property")["Score"]
        tvd, rare = balance(real, synthetic, kind)
        print(
            f"| {name} | {properties['Column Shapes']:.4f} | {properties['Column Pair Trends']:.4f} "
            f"| {detector_auc(real, synthetic, kind):.4f} | {mle_auc(synthetic, test, target, kind):.4f} "
            f"| {tvd:.4f} | {rare:.3f} |",
            flush=True)


if __name__ == "__main__":
    main()
