"""MLflow plumbing shared by training and scoring: the tracking store, the one
registered model, and its `champion` alias, which only moves to a version that
beats the current champion on the same test snapshot."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import skops.io
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models.model import ModelInfo
from skops.io.exceptions import UntrustedTypesFoundException

from modeling.errors import ModelingError

TRACKING_URI_ENV_VAR = "MLFLOW_TRACKING_URI"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
REGISTERED_MODEL = "ecommerce-churn"
CHAMPION, CHALLENGER = "champion", "challenger"


# The store is checked with these unless the user set them: no retries and a short
# timeout, so an unreachable server fails in seconds (MLflow's default, 7 retries
# with backoff, took 4 minutes against a closed port).
CHECK_HTTP_SETTINGS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}
# Registry errors that mean "no such model, version or alias", not a broken store.
NOT_FOUND = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")
# The types a registered model may hold beyond skops' own defaults (scikit-learn's
# estimators, numpy and scipy basics): those of the three model families
# (modeling.models; tests/modeling/test_safe_loading.py checks the list covers
# them). Kept here, in code, on purpose: MLflow's loader trusts the list in
# the model's own MLmodel file, which whoever wrote the model controls.
TRUSTED_TYPES = (
    "modeling.models.signed_log1p",
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.tree._tree.Tree",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
)
# Set for the project's processes: no MLflow loader may unpickle a model in them.
NO_PICKLE_LOADING = {"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false"}


def use_tracking_store() -> str:
    """Point MLflow at $MLFLOW_TRACKING_URI (default sqlite:///mlflow.db) and check,
    once and up front, that its tracking store and model registry answer; a
    ModelingError naming the store and the reason otherwise. Also turns MLflow's
    pickle loading off for this process (models load through load_version)."""
    uri = os.environ.get(TRACKING_URI_ENV_VAR) or DEFAULT_TRACKING_URI
    problem = sqlite_store_problem(uri)
    if problem is None:
        mlflow.set_tracking_uri(uri)
        problem = store_problem()
    if problem is not None:
        raise ModelingError(
            f"cannot use the MLflow tracking store {uri}: {problem} (set"
            f" {TRACKING_URI_ENV_VAR} to a store that works, e.g. {DEFAULT_TRACKING_URI})"
        )
    os.environ.update(NO_PICKLE_LOADING)
    return uri


def sqlite_store_problem(uri: str) -> str | None:
    """Why a SQLite store's file cannot be written, or None. MLflow would create
    whatever folder the URI names, so a typo would leave folders anywhere."""
    if not uri.startswith("sqlite:///"):
        return None
    path = Path(uri.removeprefix("sqlite:///").split("?", 1)[0])
    try:
        if path.is_dir():
            return f"{path} is a folder"
        if not path.parent.exists():
            return f"folder {path.parent} does not exist"
        if not path.parent.is_dir():
            return f"{path.parent} is a file, not a folder"
        written = path if path.exists() else path.parent
    except OSError as exc:  # a name too long, a loop of links
        return str(exc.strerror)
    return None if os.access(written, os.W_OK) else f"{written} is not writable"


def store_problem() -> str | None:
    """Why the tracking store or the registry does not answer a cheap query, or None."""
    with _environment_defaults(CHECK_HTTP_SETTINGS), quiet("mlflow", "alembic"):
        try:
            client = MlflowClient()
            client.search_experiments(max_results=1)
            client.search_registered_models(max_results=1)
        except Exception as error:  # any store, any driver: each fails its own way
            return short_reason(error)
    return None


def short_reason(error: BaseException) -> str:
    """The reason behind an MLflow or store error, in one short line."""
    text = str(getattr(error, "orig", None) or error)  # SQLAlchemy: the driver's error
    if "Max retries exceeded" in text or "Failed to establish" in text:
        refused = "connection refused" if "Connection refused" in text else "no answer"
        return f"the server is unreachable ({refused})"
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else type(error).__name__


def store_error(error: BaseException) -> ModelingError:
    """A failure of the store after the check (it went away, or refused a write)."""
    return ModelingError(
        f"the MLflow tracking store {mlflow.get_tracking_uri()} failed: {short_reason(error)}"
    )


@contextmanager
def _environment_defaults(settings: dict[str, str]) -> Iterator[None]:
    """Environment variables set for the block, unless the user set them already."""
    added = [name for name in settings if name not in os.environ]
    os.environ.update({name: settings[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextmanager
def quiet(*loggers: str) -> Iterator[None]:
    """Only warnings from these loggers for the block (MLflow announces table creation)."""
    levels = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def version_uri(version: str) -> str:
    """The models:/ URI of one registered version."""
    return f"models:/{REGISTERED_MODEL}/{version}"


class UnsafeModelError(Exception):
    """A registered model this code refuses to load (its reason, one line)."""


def load_version(version: str) -> tuple[Any, ModelInfo]:
    """A registered version's fitted estimator and its MLflow model info, read
    without running code from it: only the sklearn flavor's skops file, with the
    trusted types of this code (TRUSTED_TYPES), never those the model lists
    itself. UnsafeModelError for anything else (a pickle, a type outside the
    list); MlflowException when the version's files cannot be fetched."""
    uri = version_uri(version)
    info = mlflow.models.get_model_info(uri)
    flavor = info.flavors.get("sklearn", {})
    serialization = flavor.get("serialization_format", "no sklearn flavor")
    if serialization != "skops":
        raise UnsafeModelError(
            f"it is serialised as {serialization}; only skops models load here"
            " (pickle formats run code from the file)"
        )
    folder = Path(mlflow.artifacts.download_artifacts(uri)).resolve()
    path = (folder / str(flavor.get("pickled_model"))).resolve()
    if path.parent != folder or not path.is_file():
        raise UnsafeModelError(
            f"its skops file {flavor.get('pickled_model')!r} is not in the model"
        )
    try:
        return skops.io.load(path, trusted=list(TRUSTED_TYPES)), info
    except UntrustedTypesFoundException as error:
        raise UnsafeModelError(f"it holds types this code does not trust: {error}") from None


@dataclass(frozen=True)
class GateDecision:
    version: str
    alias: str
    candidate_score: float
    champion_score: float | None
    champion_version: str | None
    reason: str


def _lookup(call: Callable[[], Any]) -> Any | None:
    """The registry's answer, or None when the model, version or alias does not
    exist; any other failure is the store's (one line)."""
    try:
        return call()
    except MlflowException as error:
        if error.error_code in NOT_FOUND:
            return None
        raise store_error(error) from None


def champion_version(client: MlflowClient) -> str | None:
    """The version holding the `champion` alias, or None when there is none."""
    found = _lookup(lambda: client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION))
    return None if found is None else str(found.version)


def load_registered(version: str | None) -> tuple[Any, str, list[str]]:
    """The registered model (`version`, or the champion when None), its version, and
    the input columns of its signature (what it was trained on, which may differ
    from today's manifest). A ModelingError when there is no such version or it
    cannot be loaded."""
    client = MlflowClient()
    wanted = f"version {version}" if version else f"alias @{CHAMPION}"
    version = version or champion_version(client)
    if (
        version is None
        or _lookup(lambda: client.get_model_version(REGISTERED_MODEL, version)) is None
    ):
        raise ModelingError(
            f"no registered model {REGISTERED_MODEL} with {wanted}: run `python -m modeling.train`"
        )
    try:
        model, info = load_version(version)
    except Exception as error:  # artifacts missing, untrusted types, other library versions
        raise ModelingError(
            f"cannot load {REGISTERED_MODEL} v{version}: {short_reason(error)}"
            " (train a new version, or pass --model-version)"
        ) from None
    return model, version, info.signature.inputs.input_names()


def score_champion(
    version: str, x_test: pd.DataFrame, metric: Callable[[np.ndarray], float]
) -> float | None:
    """The current champion's metric on this run's test snapshot, or None when it
    cannot score it (trained on features the mart no longer has, artifacts gone,
    a library version that cannot read it, ...): the candidate then takes over."""
    try:
        model, _ = load_version(version)
        return float(metric(model.predict_proba(x_test)[:, 1]))
    except Exception as error:  # whatever the reason, the gate must go on
        print(f"  champion v{version} cannot score this test snapshot: {short_reason(error)}")
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
        alias, reason = CHAMPION, f"champion v{current} cannot score this test snapshot"
    elif not np.isclose(candidate_score, champion_score) and (
        (candidate_score > champion_score) == higher_is_better
    ):
        alias, reason = CHAMPION, f"beats champion v{current}"
    else:
        alias, reason = CHALLENGER, f"does not beat champion v{current}"
    client.set_registered_model_alias(REGISTERED_MODEL, alias, version)
    return GateDecision(version, alias, candidate_score, champion_score, current, reason)


def describe_version(version: str, description: str, tags: dict[str, str]) -> None:
    """Set a registered version's description and tags."""
    client = MlflowClient()
    client.update_model_version(REGISTERED_MODEL, version, description=description)
    for key, value in tags.items():
        client.set_model_version_tag(REGISTERED_MODEL, version, key, value)
