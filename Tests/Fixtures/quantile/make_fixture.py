"""Reference values for QuantileTransformTests, from scikit-learn's QuantileTransformer
(the transform TabSyn uses). Run with bench/.venv/bin/python; writes sklearn_quantile.json."""
import json
import numpy as np
from sklearn.preprocessing import QuantileTransformer

rng = np.random.default_rng(7)
# A skewed column with some exact ties (integers) and a continuous one.
columns = {
    "lognormal": np.round(rng.lognormal(3.0, 1.0, 3000), 3),
    "integers": rng.integers(0, 60, 2500).astype(float),
}
out = {}
for name, x in columns.items():
    n_q = max(min(len(x) // 30, 1000), 10)
    qt = QuantileTransformer(output_distribution="normal", n_quantiles=n_q, subsample=10**9, random_state=0)
    qt.fit(x.reshape(-1, 1))
    # Probe values strictly between distinct data values (no ties): there sklearn and our
    # transform must agree exactly; at tied values we deliberately differ (see the source).
    lo, hi = x.min(), x.max()
    probes = np.sort(rng.uniform(lo, hi, 200))
    probes = probes[~np.isin(probes, x)]
    ys = qt.transform(probes.reshape(-1, 1)).ravel()
    grid = np.linspace(-4, 4, 41)
    back = qt.inverse_transform(grid.reshape(-1, 1)).ravel()
    out[name] = {
        "values": x.tolist(),
        "quantiles": qt.quantiles_.ravel().tolist(),
        "probes": probes.tolist(),
        "forward": ys.tolist(),
        "normal_grid": grid.tolist(),
        "inverse": back.tolist(),
    }
with open("sklearn_quantile.json", "w") as f:
    json.dump(out, f)
