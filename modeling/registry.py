"""The model registry: one registered model, a `champion` alias that only moves
to a version that beats the current champion on the same test snapshot."""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

REGISTERED_MODEL = "ecommerce-churn"
CHAMPION, CHALLENGER = "champion", "challenger"


@dataclass(frozen=True)
class GateDecision:
    version: str
    alias: str
    candidate_score: float
    champion_score: float | None
    champion_version: str | None
    reason: str


def champion_version(client: MlflowClient) -> str | None:
    try:
        return str(client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION).version)
    except MlflowException:
        return None


def score_champion(version: str, x_test: pd.DataFrame, metric) -> float | None:
    """The current champion's metric on this run's test snapshot, or None when it
    cannot score it (e.g. it was trained on features the mart no longer has)."""
    try:
        model = mlflow.sklearn.load_model(f"models:/{REGISTERED_MODEL}/{version}")
        return float(metric(model.predict_proba(x_test)[:, 1]))
    except (MlflowException, KeyError, ValueError) as error:
        print(f"  champion v{version} cannot score this test snapshot: {error}")
        return None


def register_and_gate(
    model_uri: str, x_test: pd.DataFrame, candidate_score: float, metric, higher_is_better: bool
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
