"""The model families: three sklearn Pipelines from mart columns to a churn
probability (training and scoring share the preprocessing), and the BG/NBD
baseline, a probability model of the purchase history alone."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

from modeling.btyd import fit_bg_nbd
from modeling.churn_pyfunc import (
    BgNbd,
    BgNbdChurn,
    CalibratedPipeline,
    Calibration,
    btyd_inputs,
    log_odds,
)

PIPELINE_MODELS = ("logistic_regression", "random_forest", "xgboost")
BTYD_MODELS = ("bg_nbd",)
MODEL_NAMES = PIPELINE_MODELS + BTYD_MODELS
# Rows BG/NBD is fitted on, at most (a random sample of the training rows): its
# four parameters are settled long before, and each likelihood pass reads them all.
BTYD_FIT_ROWS = 200_000
# Every pipeline is recalibrated on the validation snapshot, since probabilities
# feed the campaign economics: class weighting and bagged votes distort LR's and
# RF's, and XGBoost's drift when the base rate moves between train and validation.
CALIBRATION_METHODS = ("sigmoid", "isotonic")
CALIBRATION_FOLDS = 5
# Rows each forest tree is grown on, at most: beyond this, more rows per tree
# add fit time for no gain (benchmark at 981k training rows: half of 818k rows
# per tree, 233 s, test PR AUC 0.808; 200k, 137-186 s, 0.808-0.809; 100k: see
# benchmarks/README.md). Shops under 200k training rows are not affected.
FOREST_ROWS_PER_TREE = 100_000
FOREST_SAMPLE_SHARE = 0.5  # of the training rows per tree, up to FOREST_ROWS_PER_TREE


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
            max_samples=FOREST_SAMPLE_SHARE,
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
    calibration. Returns the estimator to log: the pipeline wrapped in the
    calibrator fitted on validation."""
    if name == "xgboost":
        preprocess = pipeline[:-1].fit(x_train, y_train)
        pipeline[-1].fit(
            preprocess.transform(x_train),
            y_train,
            eval_set=[(preprocess.transform(x_valid), y_valid)],
            verbose=False,
        )
    else:
        fit_pipeline(pipeline, x_train, y_train)
    return calibrate(pipeline, x_valid, y_valid)


def fit_pipeline(pipeline: Pipeline, x: pd.DataFrame, y) -> Pipeline:
    """Fit a pipeline (no early stopping), each forest tree on a bounded sample."""
    if isinstance(pipeline[-1], RandomForestClassifier):
        share = min(FOREST_SAMPLE_SHARE, FOREST_ROWS_PER_TREE / len(x))
        pipeline[-1].set_params(max_samples=share)
    return pipeline.fit(x, y)


def refit(estimator, x: pd.DataFrame, y, seed: int):
    """The same configuration fitted on other rows (more recent ones), keeping the
    calibration learned on the validation snapshot: once the model learns from
    validation, no later held-out rows are left to calibrate on before test.
    XGBoost keeps the number of trees early stopping chose."""
    if isinstance(estimator, BgNbdChurn):
        return BgNbdChurn(fit_btyd(x, seed), estimator.window_days, estimator.calibration)
    pipeline = clone(estimator.pipeline)
    if isinstance(pipeline[-1], XGBClassifier):
        trees = estimator.pipeline[-1].best_iteration + 1
        pipeline[-1].set_params(n_estimators=trees, early_stopping_rounds=None)
    return CalibratedPipeline(fit_pipeline(pipeline, x, y), estimator.calibration)


def calibrate(pipeline: Pipeline, x_valid: pd.DataFrame, y_valid) -> CalibratedPipeline:
    """The fitted pipeline with a calibration fitted on the validation snapshot: the
    method of CALIBRATION_METHODS with the lowest log loss on validation rows it was
    not fitted on (cross-validated, CALIBRATION_FOLDS folds, on the pipeline's
    validation probabilities, computed once)."""
    churn, y_valid = pipeline.predict_proba(x_valid)[:, 1], np.asarray(y_valid)
    folds = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=0)
    losses = {}
    for method in CALIBRATION_METHODS:
        held_out = np.empty_like(churn)
        for fit_rows, other_rows in folds.split(churn, y_valid):
            part = fit_calibration(method, churn[fit_rows], y_valid[fit_rows])
            held_out[other_rows] = part.apply(churn[other_rows])
        losses[method] = log_loss(y_valid, held_out, labels=[0, 1])  # maps stay in [0, 1]
    best = min(losses, key=losses.get)
    return CalibratedPipeline(pipeline, fit_calibration(best, churn, y_valid))


def fit_calibration(method: str, churn: np.ndarray, y) -> Calibration:
    """A calibration map of a churn probability fitted on these rows (docs/decisions.md:
    why not scikit-learn's CalibratedClassifierCV)."""
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(churn, y)
        xs, ys = (tuple(map(float, p)) for p in (iso.X_thresholds_, iso.y_thresholds_))
        return Calibration("isotonic", x=xs, y=ys)
    if method == "sigmoid":
        platt = LogisticRegression(C=1e6).fit(log_odds(churn).reshape(-1, 1), y)
        return Calibration("sigmoid", float(platt.coef_[0, 0]), float(platt.intercept_[0]))
    raise ValueError(f"unknown calibration {method!r}; choose from {CALIBRATION_METHODS}")


def fit_btyd(x_train: pd.DataFrame, seed: int) -> BgNbd:
    """BG/NBD fitted on the training rows' purchase histories (a sample of at most
    BTYD_FIT_ROWS), once per run: the baseline family and the BTYD features of the
    others share it."""
    if len(x_train) > BTYD_FIT_ROWS:
        x_train = x_train.sample(BTYD_FIT_ROWS, random_state=seed)
    return fit_bg_nbd(*btyd_inputs(x_train))


def btyd_classifier(
    params: BgNbd, x_valid: pd.DataFrame, y_valid, window_days: float
) -> BgNbdChurn:
    """The BG/NBD baseline: P(no purchase in the next window_days) for each row,
    recalibrated on the validation snapshot like the other families (a sigmoid of
    its log-odds)."""
    churn = BgNbdChurn(params, window_days).raw_churn(x_valid)
    return BgNbdChurn(params, window_days, fit_calibration("sigmoid", churn, y_valid))


def hyperparameters(estimator) -> dict[str, object]:
    """The model step's parameters, for logging."""
    if isinstance(estimator, BgNbdChurn):
        return {
            **asdict(estimator.params),
            "window_days": estimator.window_days,
            "calibration": estimator.calibration.method if estimator.calibration else "none",
        }
    model = estimator.pipeline[-1]
    params = {k: v for k, v in model.get_params().items() if v is not None and k != "missing"}
    if isinstance(model, XGBClassifier) and model.early_stopping_rounds:  # not in a refit
        params["best_iteration"] = model.best_iteration
    params["calibration"] = estimator.calibration.method
    return params
