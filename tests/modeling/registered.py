"""Registered versions made by hand for the registry tests: in the project's
format (modeling.train.log_churn_model) or as other flavors a store may hold."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.types.schema import ColSpec, Schema

from modeling.churn_pyfunc import CalibratedPipeline
from modeling.lineage import warehouse_identity
from modeling.train import ModelInterface, log_churn_model

FEATURE = "days_since_last_order"


def model_name(db: Path) -> str:
    """The registered model (and experiment) of a warehouse, as training names it."""
    return warehouse_identity(db).model_name


def register_churn_model(
    name: str, estimator, tags: dict[str, str], alias: str | None = None
) -> str:
    """A version in the project's format of an estimator fitted on FEATURE alone."""
    example = pd.DataFrame({FEATURE: [1.0, 2.0]})
    interface = ModelInterface(Schema([ColSpec("double", FEATURE)]), example, (FEATURE,), ())
    with mlflow.start_run():
        model = CalibratedPipeline(estimator, calibration=None)
        info = log_churn_model("hand_made", model, interface, threshold=0.5)
    return _register(name, info.model_uri, tags, alias)


def register_sklearn(
    name: str, estimator, serialization: str, alias: str | None = None, **kwargs
) -> str:
    """A version logged with MLflow's sklearn flavor (not the project's format)."""
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            estimator, name="model", serialization_format=serialization, **kwargs
        )
    return _register(name, info.model_uri, {}, alias)


def _register(name: str, uri: str, tags: dict[str, str], alias: str | None) -> str:
    version = str(mlflow.register_model(uri, name).version)
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    if alias:
        client.set_registered_model_alias(name, alias, version)
    return version
