#!/usr/bin/env python3
"""The issue-5 figures from a tab-score --json file: score.py score.json [more.json ...]"""
import json
import sys

for path in sys.argv[1:]:
    s = json.load(open(path))
    head = {h["name"]: h["value"] for h in s["headline"]}
    det = {d["detector"]: d["auc"] for d in s.get("detection", [])}
    util = s.get("utility") or {}
    out = {
        "file": path,
        "shape_error_pct": round(100 * (1 - head["shape"]), 2),
        "trend_error_pct": round(100 * (1 - head["trend"]), 2),
        "detector_auc_xgboost": round(det["xgboost"], 3) if "xgboost" in det else None,
        "detector_auc_logistic": round(det["logistic"], 3) if "logistic" in det else None,
        "mle_auc_synthetic": round(util["synthetic"], 4) if "synthetic" in util else None,
        "mle_auc_real": round(util["real"], 4) if "real" in util else None,
    }
    print(json.dumps(out))
