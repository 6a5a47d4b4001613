#!/usr/bin/env python3
"""Writes bimodal.json: a fixed bimodal sample and scikit-learn's fit of it, as CTGAN configures it.

The reference for GaussianMixtureTests: scikit-learn's BayesianGaussianMixture with CTGAN's settings
(10 components, Dirichlet-process weight prior of concentration 0.001, other parameters at their
defaults), keeping the modes whose weight exceeds 0.005 (RDT's ClusterBasedNormalizer).

Usage (from this directory):
    python3 -m venv .venv && .venv/bin/pip install scikit-learn
    .venv/bin/python make_bimodal.py > bimodal.json

300 values, so that scikit-learn's variational EM converges to the two true modes within its 100
iterations (with 20,000 values it stops at 100 iterations with ten modes).
"""
import json
import sys
import warnings

import numpy as np
import sklearn
from sklearn.mixture import BayesianGaussianMixture

rng = np.random.default_rng(1)
n = 300
values = np.where(rng.random(n) < 0.35, rng.normal(-3, 1, n), rng.normal(4, 1.5, n))

with warnings.catch_warnings():
    warnings.simplefilter("error")  # a ConvergenceWarning would make this a poor reference
    model = BayesianGaussianMixture(
        n_components=10,
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        random_state=0,
    ).fit(values.reshape(-1, 1))

valid = model.weights_ > 0.005
order = np.argsort(model.means_[valid, 0])
json.dump(
    {
        "generator": "numpy default_rng(1): 0.35 N(-3, 1) + 0.65 N(4, 1.5^2), n = 300",
        "sklearn_version": sklearn.__version__,
        "n_iter": int(model.n_iter_),
        "values": [float(x) for x in values],
        "means": [float(x) for x in model.means_[valid, 0][order]],
        "stds": [float(x) for x in np.sqrt(model.covariances_[valid, 0, 0][order])],
        "weights": [float(x) for x in model.weights_[valid][order]],
    },
    sys.stdout,
    indent=1,
)
sys.stdout.write("\n")
