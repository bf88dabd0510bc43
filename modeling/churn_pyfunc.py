"""The registered churn model as MLflow loads it: mart rows in, churn probability out.

MLflow logs this file with every model ("models from code") and runs it when
`mlflow.pyfunc.load_model` or `mlflow models serve` loads one, so it imports
only what a model's requirements declare (MLflow, scikit-learn, XGBoost, skops,
numpy, pandas), never this project. The fitted estimator is a skops file next
to it, read with the trusted types listed here. The project's own processes
(training's gate, scoring) never run the logged copy of this file: they load
the skops file with this module as installed (modeling.registry.load_version).
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import skops.io
from mlflow.pyfunc import PythonModel

ESTIMATOR_ARTIFACT = "estimator"  # the model's artifact key of the skops file
PROBABILITY, PREDICTED = "churn_probability", "predicted_churn"  # the output columns
# The types an estimator may hold beyond skops' defaults (scikit-learn's estimators,
# numpy and scipy basics): those of the model families (modeling.models;
# tests/modeling/test_safe_loading.py checks the list covers them). Listed in code
# on purpose: a model's own list is written by whoever wrote the model.
TRUSTED_TYPES = (
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.tree._tree.Tree",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
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


class ChurnModel(PythonModel):
    """predict(mart rows) -> churn_probability and predicted_churn (1 at or above the
    threshold picked on the validation snapshot) per row, in the input's order."""

    def load_context(self, context) -> None:
        self.configure(Path(context.artifacts[ESTIMATOR_ARTIFACT]), context.model_config)

    def configure(self, estimator_path: Path, config: dict) -> ChurnModel:
        """Read the estimator (skops, TRUSTED_TYPES only) and the feature lists."""
        self.estimator = skops.io.load(estimator_path, trusted=list(TRUSTED_TYPES))
        self.numeric = list(config["numeric"])
        self.categorical = list(config["categorical"])
        self.threshold = float(config["threshold"])
        return self

    def churn_probability(self, rows: pd.DataFrame) -> np.ndarray:
        features = mart_features(rows, self.numeric, self.categorical)
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
