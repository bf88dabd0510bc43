"""Registered models load without running code from them (modeling.registry.load_version):
skops only, with this code's trusted types; pickles and foreign types are refused."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import skops.io
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.dummy import DummyClassifier
from sklearn.preprocessing import FunctionTransformer

from modeling import registry
from modeling.errors import ModelingError
from modeling.models import MODEL_NAMES, build_pipeline, fit


class Payload:
    """Unpickling this creates `marker`: proof that loading ran code from the file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (str(self.marker),))


def register(estimator, serialization: str, **kwargs) -> str:
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            estimator, name="model", serialization_format=serialization, **kwargs
        )
    return str(mlflow.register_model(info.model_uri, registry.REGISTERED_MODEL).version)


def plant_pickle_champion(marker: Path) -> str:
    """A champion whose model file runs a payload when unpickled."""
    version = register(
        DummyClassifier().fit(pd.DataFrame({"x": [1.0, 2.0]}), [0, 1]), "cloudpickle"
    )
    folder = Path(mlflow.artifacts.download_artifacts(registry.version_uri(version)))
    (folder / "model.pkl").write_bytes(pickle.dumps(Payload(marker)))
    MlflowClient().set_registered_model_alias(registry.REGISTERED_MODEL, "champion", version)
    return version


def test_the_trusted_types_cover_every_model_family():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=300), "c": rng.choice(["p", "q"], 300)})
    y = pd.Series((rng.random(300) < 0.4).astype(int))
    for name in MODEL_NAMES:
        pipeline = build_pipeline(name, ["a"], ["c"], seed=0, threads=1)
        if name != "logistic_regression":
            pipeline[-1].set_params(n_estimators=3)
        estimator = fit(name, pipeline, x[:200], y[:200], x[200:], y[200:])
        needed = skops.io.get_untrusted_types(data=skops.io.dumps(estimator))
        assert set(needed) <= set(registry.TRUSTED_TYPES), (name, needed)


def test_a_planted_pickle_champion_is_refused_without_running_it(
    mlflow_store, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")  # restored after
    registry.use_tracking_store()
    mlflow.set_experiment("safe-loading")  # not the active one of an earlier test's store
    marker = tmp_path / "payload-ran"
    version = plant_pickle_champion(marker)

    with pytest.raises(ModelingError) as refused:
        registry.load_registered(None)
    assert str(refused.value) == (
        f"cannot load ecommerce-churn v{version}: it is serialised as cloudpickle; only skops"
        " models load here (pickle formats run code from the file) (train a new version, or"
        " pass --model-version)"
    )
    # The gate of a training run cannot use it either, and says so in one line.
    x = pd.DataFrame({"x": [1.0, 2.0]})
    assert registry.score_champion(version, x, lambda proba: 0.5) is None
    assert "cannot score this test snapshot: it is serialised as cloudpickle" in (
        capsys.readouterr().out
    )
    # MLflow's own loaders are off in the project's processes too.
    with pytest.raises(MlflowException, match="MLFLOW_ALLOW_PICKLE_DESERIALIZATION"):
        mlflow.sklearn.load_model(registry.version_uri(version))
    assert not marker.exists()


def test_types_a_model_trusts_itself_are_not_trusted(mlflow_store):
    mlflow.set_tracking_uri(mlflow_store)
    mlflow.set_experiment("safe-loading")
    shell = FunctionTransformer(os.system).fit(pd.DataFrame({"x": [1.0]}))
    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(shell))
    version = register(shell, "skops", skops_trusted_types=untrusted)
    with pytest.raises(registry.UnsafeModelError, match="types this code does not trust"):
        registry.load_version(version)
