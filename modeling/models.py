"""The three model families, each one sklearn Pipeline from mart columns to a
churn probability, so training and scoring share the preprocessing."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

MODEL_NAMES = ("logistic_regression", "random_forest", "xgboost")
# Models whose raw probabilities are distorted (class weighting, bagged votes):
# they are recalibrated on the validation snapshot, since probabilities feed the
# campaign economics. XGBoost's log-loss objective is calibrated as it is.
NEEDS_CALIBRATION = {"logistic_regression", "random_forest"}
# Rows each forest tree is grown on, at most: beyond this, more rows per tree
# add fit time for no gain (benchmark: half of 818k rows per tree, 233 s, test
# PR AUC 0.808; 200k of 981k rows, 137 s, 0.808).
FOREST_ROWS_PER_TREE = 200_000


def _one_hot() -> OneHotEncoder:
    return OneHotEncoder(
        handle_unknown="infrequent_if_exist", min_frequency=20, sparse_output=False
    )


def build_pipeline(
    name: str, numeric: list[str], categorical: list[str], seed: int, threads: int = 2
) -> Pipeline:
    if name == "logistic_regression":
        numeric_steps = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True),
            # Compresses heavy tails (revenue, counts) for the linear model, keeping the
            # sign; a numpy function, so a saved model needs no code of this project.
            FunctionTransformer(np.arcsinh, feature_names_out="one-to-one"),
            StandardScaler(),
        )
        model = LogisticRegression(class_weight="balanced", max_iter=2000, C=0.5)
    elif name == "random_forest":
        numeric_steps = SimpleImputer(strategy="median", add_indicator=True)
        model = RandomForestClassifier(
            n_estimators=200,
            max_depth=14,
            min_samples_leaf=25,
            max_samples=0.5,
            max_features="sqrt",
            class_weight="balanced_subsample",
            n_jobs=threads,
            random_state=seed,
        )
    elif name == "xgboost":
        numeric_steps = "passthrough"  # missing values are handled natively
        model = XGBClassifier(
            tree_method="hist",
            n_estimators=600,
            learning_rate=0.05,
            max_depth=6,
            min_child_weight=5,
            subsample=0.8,
            colsample_bytree=0.8,
            eval_metric="aucpr",
            early_stopping_rounds=40,
            n_jobs=threads,
            random_state=seed,
        )
    else:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
    preprocess = ColumnTransformer(
        [("numeric", numeric_steps, numeric), ("categorical", _one_hot(), categorical)],
        verbose_feature_names_out=False,
    )
    return Pipeline([("preprocess", preprocess), ("model", model)])


def fit(
    name: str,
    pipeline: Pipeline,
    x_train: pd.DataFrame,
    y_train: pd.Series,
    x_valid: pd.DataFrame,
    y_valid: pd.Series,
):
    """Fit on train; the validation snapshot serves early stopping (XGBoost) and
    calibration. Returns the estimator to log: the pipeline, or the pipeline
    wrapped in a calibrator fitted on validation."""
    if name == "xgboost":
        preprocess = pipeline[:-1].fit(x_train, y_train)
        pipeline[-1].fit(
            preprocess.transform(x_train),
            y_train,
            eval_set=[(preprocess.transform(x_valid), y_valid)],
            verbose=False,
        )
    else:
        if name == "random_forest":
            share = pipeline[-1].max_samples
            pipeline[-1].set_params(max_samples=min(share, FOREST_ROWS_PER_TREE / len(x_train)))
        pipeline.fit(x_train, y_train)
    if name not in NEEDS_CALIBRATION:
        return pipeline
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method="sigmoid")
    return calibrated.fit(x_valid, y_valid)


def inner_pipeline(estimator) -> Pipeline:
    """The fitted Pipeline inside a (possibly calibrated) estimator."""
    if isinstance(estimator, CalibratedClassifierCV):
        return estimator.calibrated_classifiers_[0].estimator.estimator
    return estimator


def hyperparameters(estimator) -> dict[str, object]:
    """The model step's parameters, for logging."""
    model = inner_pipeline(estimator)[-1]
    params = {k: v for k, v in model.get_params().items() if v is not None and k != "missing"}
    if isinstance(model, XGBClassifier):
        params["best_iteration"] = model.best_iteration
    params["calibrated"] = estimator is not inner_pipeline(estimator)
    return params
