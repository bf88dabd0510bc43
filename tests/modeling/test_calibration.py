"""Calibration on the validation snapshot (modeling.models.calibrate), without a dbt
build: whatever the model's distortion, the calibrated probabilities are the true ones;
the map is plain numbers that survive the model's config."""

import numpy as np
import pandas as pd
import pytest
import skops.io
import yaml
from scipy.special import expit, logit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.isotonic import IsotonicRegression

from modeling.churn_pyfunc import BTYD_COLUMNS, Calibration, ChurnModel
from modeling.models import build_pipeline, calibrate, fit_calibration


class Distorted:
    """A fitted model whose churn probability is a known distortion of the truth."""

    def __init__(self, distort):
        self.distort = distort

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        churn = self.distort(expit(x[:, 0]))
        return np.column_stack([1 - churn, churn])


def sample(rng, n: int):
    """A feature and labels drawn from P(churn) = expit(feature)."""
    x = rng.normal(0.0, 1.5, size=(n, 1))
    truth = expit(x[:, 0])
    return x, truth, (rng.random(n) < truth).astype(int)


DISTORTIONS = {  # distortion, largest mean error allowed after calibration
    "calibrated already": (lambda p: p, 0.01),
    "base rate shifted up": (lambda p: expit(logit(p) + 1.0), 0.01),
    "base rate shifted down": (lambda p: expit(logit(p) - 0.7), 0.01),
    "overconfident": (lambda p: expit(2.0 * logit(p)), 0.01),
    # Bagged votes: no map of the two methods is exact here (0.020 with a sigmoid).
    "squashed to the middle": (lambda p: 0.3 + 0.4 * p, 0.025),
}


@pytest.mark.parametrize("distortion", DISTORTIONS)
def test_calibration_recovers_the_true_probabilities(distortion):
    distort, allowed = DISTORTIONS[distortion]
    rng = np.random.default_rng(0)
    x, _, y = sample(rng, 5000)
    model = calibrate(Distorted(distort), x, y)
    x_new, truth, _ = sample(rng, 20000)
    error = np.abs(model.predict_proba(x_new)[:, 1] - truth).mean()
    # scikit-learn's "sigmoid" of the probability itself (for models without a
    # decision function, as RF and XGBoost) errs by 0.02-0.04 on the first three.
    assert error < allowed, (model.calibration.method, error)


def test_the_map_is_numbers_that_survive_the_config():
    rng = np.random.default_rng(1)
    churn = rng.random(2000)
    y = (rng.random(2000) < churn**2).astype(int)
    for method in ("sigmoid", "isotonic"):
        fitted = fit_calibration(method, churn, y)
        config = yaml.safe_load(yaml.safe_dump(fitted.to_config()))  # as MLflow writes it
        assert Calibration.from_config(config) == fitted
    isotonic = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(churn, y)
    grid = np.linspace(-0.5, 1.5, 101)
    np.testing.assert_allclose(
        fit_calibration("isotonic", churn, y).apply(grid), isotonic.predict(grid)
    )
    # BG/NBD versions logged before isotonic maps existed: [slope, intercept].
    assert Calibration.from_config([1.2, -0.1]) == Calibration("sigmoid", 1.2, -0.1)
    assert Calibration.from_config(None) is None


def test_versions_logged_with_scikit_learns_calibrator_still_load(tmp_path):
    """Before 2026-12-02 the skops file held a CalibratedClassifierCV (either method)
    and BG/NBD's config a bare [slope, intercept]: both still load and predict."""
    rng = np.random.default_rng(2)
    x = pd.DataFrame({"a": rng.normal(size=400), "c": rng.choice(["p", "q"], 400)})
    y = (rng.random(400) < expit(x["a"])).astype(int)
    pipeline = build_pipeline("xgboost", ["a"], ["c"], seed=0, threads=1)
    pipeline[-1].set_params(n_estimators=5, early_stopping_rounds=None)
    pipeline.fit(x[:300], y[:300])
    config = {"numeric": ["a"], "categorical": ["c"], "threshold": 0.5}
    for method in ("sigmoid", "isotonic"):
        legacy = CalibratedClassifierCV(FrozenEstimator(pipeline), method=method)
        legacy.fit(x[300:], y[300:])
        path = tmp_path / f"{method}.skops"
        skops.io.dump(legacy, path)
        model = ChurnModel().configure(path, config)
        np.testing.assert_allclose(model.churn_probability(x), legacy.predict_proba(x)[:, 1])
    old_btyd = {**config, "numeric": list(BTYD_COLUMNS), "categorical": []}
    old_btyd |= {"bg_nbd": {"r": 0.5, "alpha": 40.0, "a": 0.8, "b": 2.0}, "window_days": 90}
    model = ChurnModel().configure(None, old_btyd | {"calibration": [1.2, -0.1]})
    assert model.estimator.calibration == Calibration("sigmoid", 1.2, -0.1)
