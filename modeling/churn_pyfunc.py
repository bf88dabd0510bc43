"""The registered churn model as MLflow loads it: mart rows in, churn probability out.

MLflow logs this file with every model ("models from code") and runs it when
`mlflow.pyfunc.load_model` or `mlflow models serve` loads one, so it imports
only what a model's requirements declare (MLflow, scikit-learn, XGBoost, skops,
numpy, pandas), never this project. The fitted pipeline is a skops file next
to it, read with the trusted types listed here; its calibration map and BG/NBD's
parameters are numbers in the model's config. The project's own processes
(training's gate, scoring) never run the logged copy of this file: they load
the skops file with this module as installed (modeling.registry.load_version).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import skops.io
from mlflow.pyfunc import PythonModel
from scipy.special import hyp2f1

ESTIMATOR_ARTIFACT = "estimator"  # the model's artifact key of the skops file
PROBABILITY, PREDICTED = "churn_probability", "predicted_churn"  # the output columns
# The types an estimator may hold beyond skops' defaults (scikit-learn's estimators,
# numpy and scipy basics): those of the model families (modeling.models;
# tests/modeling/test_safe_loading.py checks the list covers them). Listed in code
# on purpose: a model's own list is written by whoever wrote the model.
TRUSTED_TYPES = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    # Versions logged before 2026-12-02 hold a CalibratedClassifierCV in the file.
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
)


def mart_features(rows: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """The feature columns as the estimators are fitted on them, from mart rows of
    any column type: numbers as float64 (the mart's BIGINT, INTEGER and BOOLEAN
    columns arrive as int64, Int64, Int32, bool or boolean depending on nulls, or
    as JSON numbers from the REST server), categories as objects with NaN for a
    missing value. Other columns are left out."""
    numbers = rows[numeric].apply(pd.to_numeric).astype("float64")
    categories = rows[categorical].astype(object)
    return pd.concat([numbers, categories.where(categories.notna(), np.nan)], axis=1)


# The mart columns a BTYD model reads: lifetime orders, days since the first and
# the last one (as_of - date), from which repeat purchases x, recency t_x and age T.
BTYD_COLUMNS = ("orders_lifetime", "days_since_first_order", "days_since_last_order")


def btyd_inputs(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T) in days: repeat purchases, time of the last one and age, all
    counted from the first purchase (BG/NBD's customer summary)."""
    orders, first, last = (rows[c].to_numpy(dtype="float64", na_value=np.nan) for c in BTYD_COLUMNS)
    x = np.maximum(orders - 1, 0)
    age = np.maximum(first, 0)
    return x, np.clip(first - last, 0, age), age


@dataclass(frozen=True)
class BgNbd:
    """A fitted BG/NBD model (Fader, Hardie & Lee, 2005), time in days: purchase
    rates ~ Gamma(r, alpha), dropout after each purchase with p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def _alive_odds(self, x, t_x, age):
        """P(dropped out) / P(alive) given the history; 0 without repeat purchases."""
        ratio = (self.alpha + age) / (self.alpha + t_x)
        odds = self.a / np.maximum(self.b + x - 1, 1e-12) * np.power(ratio, self.r + x)
        return np.where(x > 0, odds, 0.0)

    def p_alive(self, x, t_x, age) -> np.ndarray:
        return 1.0 / (1.0 + self._alive_odds(x, t_x, age))

    def p_no_purchase(self, x, t_x, age, window) -> np.ndarray:
        """P(no purchase in the next `window` days): dropped out, or alive and no
        purchase (the posterior rate is Gamma(r + x, alpha + T))."""
        quiet = np.power((self.alpha + age) / (self.alpha + age + window), self.r + x)
        return 1.0 - self.p_alive(x, t_x, age) * (1.0 - quiet)

    def expected_purchases(self, x, t_x, age, window) -> np.ndarray:
        """E[purchases in the next `window` days | history] (the closed form has a - 1
        in a denominator: a == 1 exactly is moved by a hair)."""
        a = self.a if self.a != 1 else 1 + 1e-9
        horizon = self.alpha + age + window
        hyper = hyp2f1(self.r + x, self.b + x, a + self.b + x - 1, window / horizon)
        tail = 1.0 - np.power((self.alpha + age) / horizon, self.r + x) * hyper
        scale = (a + self.b + x - 1) / (a - 1)
        return scale * tail / (1.0 + self._alive_odds(x, t_x, age))


# BG/NBD's view of each customer, given to the other families as features.
BTYD_FEATURES = ("btyd_p_alive", "btyd_expected_purchases")


def add_btyd_features(features: pd.DataFrame, params: BgNbd, window_days: float) -> pd.DataFrame:
    """The features plus P(alive) and the expected purchases in the churn window
    under a BG/NBD model (fitted on training rows only)."""
    x, t_x, age = btyd_inputs(features)
    return features.assign(
        btyd_p_alive=params.p_alive(x, t_x, age),
        btyd_expected_purchases=params.expected_purchases(x, t_x, age, window_days),
    )


@dataclass(frozen=True)
class Calibration:
    """A map from a model's churn probability to a calibrated one, fitted on held-out
    rows and kept as numbers (never deserialised): "sigmoid" is Platt scaling of the
    log-odds, sigmoid(slope * log-odds + intercept), which holds the identity and a
    base-rate shift; "isotonic" is a non-decreasing step function through the points
    (x, y), linear between them and flat beyond them."""

    method: str
    slope: float = 1.0
    intercept: float = 0.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    def apply(self, churn: np.ndarray) -> np.ndarray:
        if self.method == "isotonic":
            return np.interp(churn, self.x, self.y)
        return 1.0 / (1.0 + np.exp(-(self.slope * log_odds(churn) + self.intercept)))

    def to_config(self) -> dict:
        """Plain floats and lists: the model's config is written as YAML."""
        return {
            "method": self.method,
            "slope": float(self.slope),
            "intercept": float(self.intercept),
            "x": [float(v) for v in self.x],
            "y": [float(v) for v in self.y],
        }

    @classmethod
    def from_config(cls, config) -> Calibration | None:
        """From a model's config; a bare [slope, intercept] is a sigmoid (BG/NBD
        versions logged before isotonic maps existed)."""
        if not config:
            return None
        if isinstance(config, list | tuple):
            return cls("sigmoid", *map(float, config))
        return cls(
            str(config["method"]),
            float(config.get("slope", 1.0)),
            float(config.get("intercept", 0.0)),
            tuple(map(float, config.get("x", ()))),
            tuple(map(float, config.get("y", ()))),
        )


def calibrated(churn: np.ndarray, calibration: Calibration | None) -> np.ndarray:
    """predict_proba's two columns for a churn probability, calibrated when given."""
    if calibration is not None:
        churn = calibration.apply(churn)
    churn = np.clip(churn, 0.0, 1.0)
    return np.column_stack([1.0 - churn, churn])


class CalibratedPipeline:
    """A fitted scikit-learn pipeline (the skops file) and its calibration (numbers
    in the model's config)."""

    def __init__(self, pipeline, calibration: Calibration | None):
        self.pipeline, self.calibration = pipeline, calibration

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return calibrated(self.pipeline.predict_proba(features)[:, 1], self.calibration)


class BgNbdChurn:
    """BG/NBD as a churn classifier: predict_proba's second column is P(no purchase
    in the churn window), recalibrated (a sigmoid of its log-odds) when `calibration`
    is given. Built from numbers, never deserialised."""

    def __init__(self, params: BgNbd, window_days: float, calibration: Calibration | None = None):
        self.params, self.window_days = params, float(window_days)
        self.calibration = calibration

    def raw_churn(self, features: pd.DataFrame) -> np.ndarray:
        x, t_x, age = btyd_inputs(features)
        return self.params.p_no_purchase(x, t_x, age, self.window_days)

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return calibrated(self.raw_churn(features), self.calibration)


def log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p) - np.log1p(-p)


class ChurnModel(PythonModel):
    """predict(mart rows) -> churn_probability and predicted_churn (1 at or above the
    threshold picked on the validation snapshot) per row, in the input's order."""

    btyd: tuple[BgNbd, float] | None = None  # the BG/NBD fit its BTYD features come from

    def load_context(self, context) -> None:
        path = context.artifacts.get(ESTIMATOR_ARTIFACT)
        self.configure(Path(path) if path else None, context.model_config)

    def configure(self, estimator_path: Path | None, config: dict) -> ChurnModel:
        """Read the estimator (skops, TRUSTED_TYPES only), or build the BG/NBD model
        from its parameters, and the feature lists."""
        calibration = Calibration.from_config(config.get("calibration"))
        if "bg_nbd" in config:
            params = BgNbd(**config["bg_nbd"])
            self.estimator = BgNbdChurn(params, config["window_days"], calibration)
        else:
            self.estimator = skops.io.load(estimator_path, trusted=list(TRUSTED_TYPES))
            # No map: a version logged before 2026-12-02, whose file holds its calibrator.
            if calibration is not None:
                self.estimator = CalibratedPipeline(self.estimator, calibration)
        self.numeric = list(config["numeric"])
        self.categorical = list(config["categorical"])
        self.threshold = float(config["threshold"])
        btyd = config.get("btyd_features")
        self.btyd = None if not btyd else (BgNbd(**btyd["bg_nbd"]), float(btyd["window_days"]))
        return self

    def churn_probability(self, rows: pd.DataFrame) -> np.ndarray:
        features = mart_features(rows, self.numeric, self.categorical)
        if self.btyd is not None:
            features = add_btyd_features(features, *self.btyd)
        return self.estimator.predict_proba(features)[:, 1]

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        proba = self.churn_probability(pd.DataFrame(model_input))
        return pd.DataFrame(
            {PROBABILITY: proba, PREDICTED: (proba >= self.threshold).astype("int64")}
        )


# Run as the model's code by MLflow (under a generated module name); imported by
# the project for its definitions only.
if __name__ != "modeling.churn_pyfunc":
    mlflow.models.set_model(ChurnModel())
