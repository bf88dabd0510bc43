"""Fitting the buy-till-you-die baseline: BG/NBD by maximum likelihood.

Our own implementation (docs/decisions.md: the maintained library, pymc-marketing,
brings PyMC and PyTensor for four parameters): the log-likelihood of Fader,
Hardie & Lee (2005), maximised with scipy over the log-parameters. The model's
predictions (P(alive), P(no purchase in a window), expected purchases) live in
modeling.churn_pyfunc, which a logged model carries."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

from modeling.churn_pyfunc import BgNbd

START = np.log([1.0, 30.0, 1.0, 1.0])  # r, alpha (days), a, b
LOG_BOUNDS = [(-12.0, 12.0)] * 4


def log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray):
    """Each customer's BG/NBD log-likelihood of (x repeat purchases, the last at t_x,
    observed for age T), for params (r, alpha, a, b)."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    alive = -(r + x) * np.log(alpha + age)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(
            x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x), -np.inf
        )
    return common + np.logaddexp(alive, dropped)


def fit_bg_nbd(x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> BgNbd:
    """The maximum-likelihood BG/NBD parameters for these customer summaries."""
    keep = np.isfinite(x) & np.isfinite(t_x) & np.isfinite(age) & (age > 0)
    x, t_x, age = x[keep], t_x[keep], age[keep]
    if len(x) == 0:
        raise ValueError("no customer summary to fit BG/NBD on")

    def loss(log_params: np.ndarray) -> float:
        return -float(np.mean(log_likelihood(np.exp(log_params), x, t_x, age)))

    found = minimize(loss, START, method="L-BFGS-B", bounds=LOG_BOUNDS)
    return BgNbd(*(float(v) for v in np.exp(found.x)))
