"""MLflow plumbing shared by training and scoring: the tracking store, the one
registered model, and its `champion` alias, which only moves to a version that
beats the current champion on the same test snapshot."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from modeling.errors import ModelingError

TRACKING_URI_ENV_VAR = "MLFLOW_TRACKING_URI"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
REGISTERED_MODEL = "ecommerce-churn"
CHAMPION, CHALLENGER = "champion", "challenger"


def use_tracking_store() -> str:
    """MLflow's default local store (sqlite:///mlflow.db) unless MLFLOW_TRACKING_URI is set."""
    uri = os.environ.get(TRACKING_URI_ENV_VAR) or DEFAULT_TRACKING_URI
    mlflow.set_tracking_uri(uri)
    return uri


def version_uri(version: str) -> str:
    """The models:/ URI of one registered version."""
    return f"models:/{REGISTERED_MODEL}/{version}"


def load_version(version: str) -> Any:
    """A registered version's fitted estimator (MlflowException when it cannot load)."""
    return mlflow.sklearn.load_model(version_uri(version))


@dataclass(frozen=True)
class GateDecision:
    version: str
    alias: str
    candidate_score: float
    champion_score: float | None
    champion_version: str | None
    reason: str


def champion_version(client: MlflowClient) -> str | None:
    """The version holding the `champion` alias, or None when there is none."""
    try:
        return str(client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION).version)
    except MlflowException:
        return None


def load_registered(version: str | None) -> tuple[Any, str, list[str]]:
    """The registered model (`version`, or the champion when None), its version, and
    the input columns of its signature (what it was trained on, which may differ
    from today's manifest). A ModelingError when there is no such version."""
    client = MlflowClient()
    wanted = f"version {version}" if version else f"alias @{CHAMPION}"
    missing = ModelingError(
        f"no registered model {REGISTERED_MODEL} with {wanted}: run `python -m modeling.train`"
    )
    version = version or champion_version(client)
    if version is None:
        raise missing
    try:
        client.get_model_version(REGISTERED_MODEL, version)
        model = load_version(version)
        info = mlflow.models.get_model_info(version_uri(version))
    except MlflowException:
        raise missing from None
    return model, version, info.signature.inputs.input_names()


def score_champion(
    version: str, x_test: pd.DataFrame, metric: Callable[[np.ndarray], float]
) -> float | None:
    """The current champion's metric on this run's test snapshot, or None when it
    cannot score it (e.g. it was trained on features the mart no longer has)."""
    try:
        model = load_version(version)
        return float(metric(model.predict_proba(x_test)[:, 1]))
    except (MlflowException, KeyError, ValueError) as error:
        print(f"  champion v{version} cannot score this test snapshot: {error}")
        return None


def register_and_gate(
    model_uri: str,
    x_test: pd.DataFrame,
    candidate_score: float,
    metric: Callable[[np.ndarray], float],
    higher_is_better: bool,
) -> GateDecision:
    """Register the run's best model; move `champion` to it only if it beats the
    current champion (strictly, on the same test rows), else mark it `challenger`."""
    client = MlflowClient()
    current = champion_version(client)
    champion_score = score_champion(current, x_test, metric) if current else None
    version = str(mlflow.register_model(model_uri, REGISTERED_MODEL).version)
    if current is None:
        alias, reason = CHAMPION, "no champion yet"
    elif champion_score is None:
        alias, reason = CHAMPION, f"champion v{current} cannot score the current features"
    elif not np.isclose(candidate_score, champion_score) and (
        (candidate_score > champion_score) == higher_is_better
    ):
        alias, reason = CHAMPION, f"beats champion v{current}"
    else:
        alias, reason = CHALLENGER, f"does not beat champion v{current}"
    client.set_registered_model_alias(REGISTERED_MODEL, alias, version)
    return GateDecision(version, alias, candidate_score, champion_score, current, reason)
