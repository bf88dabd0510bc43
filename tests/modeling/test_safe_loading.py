"""Registered models load without running code from them (modeling.registry.load_version):
the project's format only (a skops estimator read with this code's trusted types, the
logged code never run); pickles and foreign types are refused."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import skops.io
from mlflow.exceptions import MlflowException
from sklearn.dummy import DummyClassifier
from sklearn.preprocessing import FunctionTransformer

from modeling import churn_pyfunc, registry
from modeling.errors import ModelingError
from modeling.models import PIPELINE_MODELS, build_pipeline, fit
from tests.modeling.registered import FEATURE, register_churn_model, register_sklearn

NAME = "churn-shop-00000000"


class Payload:
    """Unpickling this creates `marker`: proof that loading ran code from the file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (str(self.marker),))


def weak_model() -> DummyClassifier:
    return DummyClassifier(strategy="prior").fit(pd.DataFrame({FEATURE: [1.0, 2.0]}), [0, 1])


def plant_pickle_champion(marker: Path) -> str:
    """A champion whose model file runs a payload when unpickled."""
    version = register_sklearn(NAME, weak_model(), "cloudpickle", alias="champion")
    folder = Path(mlflow.artifacts.download_artifacts(registry.version_uri(NAME, version)))
    (folder / "model.pkl").write_bytes(pickle.dumps(Payload(marker)))
    return version


@pytest.fixture
def store(mlflow_store):
    registry.use_tracking_store()
    mlflow.set_experiment("safe-loading")  # not the active one of an earlier test's store
    return mlflow_store


def test_the_trusted_types_cover_every_model_family():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=300), "c": rng.choice(["p", "q"], 300)})
    y = (rng.random(300) < 0.4).astype(int)
    for name in PIPELINE_MODELS:
        pipeline = build_pipeline(name, ["a"], ["c"], seed=0, threads=1)
        if name != "logistic_regression":
            pipeline[-1].set_params(n_estimators=3)
        fitted = fit(name, pipeline, x[:200], y[:200], x[200:], y[200:]).pipeline
        needed = skops.io.get_untrusted_types(data=skops.io.dumps(fitted))
        assert set(needed) <= set(churn_pyfunc.TRUSTED_TYPES), (name, needed)


def test_a_planted_pickle_champion_is_refused_without_running_it(
    store, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")  # restored after
    registry.use_tracking_store()
    marker = tmp_path / "payload-ran"
    version = plant_pickle_champion(marker)

    with pytest.raises(ModelingError) as refused:
        registry.load_registered(NAME, None)
    assert str(refused.value) == (
        f"cannot load {NAME} v{version}: it is an sklearn model serialised as cloudpickle;"
        " only models logged by modeling.train (a skops estimator) load here (pickle formats"
        " run code from the file) (train a new version, or pass --model-version)"
    )
    # MLflow's own loaders are off in the project's processes too.
    with pytest.raises(MlflowException, match="MLFLOW_ALLOW_PICKLE_DESERIALIZATION"):
        mlflow.sklearn.load_model(registry.version_uri(NAME, version))
    assert not marker.exists()


def test_the_code_logged_with_a_model_is_not_run_by_the_project(store, tmp_path):
    """A version in the project's format whose logged code was replaced: scoring and
    the gate read its skops file with the installed churn_pyfunc, never that code."""
    version = register_churn_model(NAME, weak_model(), tags={})
    folder = Path(mlflow.artifacts.download_artifacts(registry.version_uri(NAME, version)))
    marker = tmp_path / "code-ran"
    (folder / Path(churn_pyfunc.__file__).name).write_text(
        f"import os\nos.makedirs({str(marker)!r})\n"
    )
    model, _ = registry.load_version(NAME, version)
    assert model.churn_probability(pd.DataFrame({FEATURE: [3]})).tolist() == [0.5]
    assert not marker.exists()


def test_types_a_model_trusts_itself_are_not_trusted(store, tmp_path):
    shell = FunctionTransformer(os.system).fit(pd.DataFrame({"x": [1.0]}))
    version = register_churn_model(NAME, weak_model(), tags={})
    # The version's estimator swapped for one holding os.system, which skops lists as
    # untrusted: the project's list, not the file's, decides.
    folder = Path(mlflow.artifacts.download_artifacts(registry.version_uri(NAME, version)))
    (estimator,) = folder.glob("artifacts/*.skops")
    skops.io.dump(shell, estimator)
    with pytest.raises(registry.UnsafeModelError, match="types this code does not trust"):
        registry.load_version(NAME, version)


def test_a_model_of_another_format_is_refused(store):
    version = register_sklearn(NAME, weak_model(), "skops")
    with pytest.raises(registry.UnsafeModelError, match="sklearn model serialised as skops"):
        registry.load_version(NAME, version)


def test_an_estimator_path_outside_the_model_is_refused(store, tmp_path):
    version = register_churn_model(NAME, weak_model(), tags={})
    folder = Path(mlflow.artifacts.download_artifacts(registry.version_uri(NAME, version)))
    mlmodel = folder / "MLmodel"
    outside = tmp_path / "elsewhere.skops"
    shutil.copy(next(folder.glob("artifacts/*.skops")), outside)
    mlmodel.write_text(mlmodel.read_text().replace("artifacts/estimator.skops", str(outside)))
    with pytest.raises(registry.UnsafeModelError, match="is not in the model"):
        registry.load_version(NAME, version)
