"""MLflow plumbing shared by training and scoring: the tracking store, a warehouse's
registered model, and its `champion` alias, which only moves to a version that
beats the current champion on the same test snapshot (or when the champion was
built on other features)."""

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
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models.model import ModelInfo
from skops.io.exceptions import UntrustedTypesFoundException

from modeling.churn_pyfunc import ESTIMATOR_ARTIFACT, ChurnModel
from modeling.errors import ModelingError

TRACKING_URI_ENV_VAR = "MLFLOW_TRACKING_URI"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
CHAMPION, CHALLENGER = "champion", "challenger"
# Version tags that scoring and the gate read (set by modeling.train).
FEATURES_TAG, WAREHOUSE_TAG = "dbt.features_sha256", "warehouse.id"
LABELS_TAG = "labels_through"  # the latest labeled snapshot the version learned from


# The store is checked with these unless the user set them: no retries and a short
# timeout, so an unreachable server fails in seconds (MLflow's default, 7 retries
# with backoff, took 4 minutes against a closed port).
CHECK_HTTP_SETTINGS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}
# Registry errors that mean "no such model, version or alias", not a broken store.
NOT_FOUND = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")
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
    # Downloading a model's few files needs no progress bar in a terminal log.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
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


def version_uri(name: str, version: str) -> str:
    """The models:/ URI of one registered version."""
    return f"models:/{name}/{version}"


class UnsafeModelError(Exception):
    """A registered model this code refuses to load (its reason, one line)."""


def model_format(flavors: dict) -> str:
    """What a logged model is, in a few words, for a refusal."""
    if "sklearn" in flavors:
        return f"an sklearn model serialised as {flavors['sklearn'].get('serialization_format')}"
    pyfunc = flavors.get("python_function", {})
    if pyfunc.get("python_model"):
        return "a pickled Python model"
    return f"a model of loader {pyfunc.get('loader_module', 'none')}"


def load_version(name: str, version: str) -> tuple[ChurnModel, ModelInfo]:
    """A registered version as a ChurnModel, and its MLflow model info, read without
    running code from it: only a model logged by modeling.train (this project's
    churn_pyfunc code and a skops estimator), whose estimator is read with this
    code's trusted types (churn_pyfunc.TRUSTED_TYPES), never those the model
    lists itself, and whose logged code is not run. UnsafeModelError for anything
    else (a pickle, a type outside the list); MlflowException when the version's
    files cannot be fetched."""
    uri = version_uri(name, version)
    info = mlflow.models.get_model_info(uri)
    pyfunc = info.flavors.get("python_function", {})
    config = pyfunc.get("config") or {}
    artifact = (pyfunc.get("artifacts") or {}).get(ESTIMATOR_ARTIFACT) or {}
    btyd = isinstance(config, dict) and "bg_nbd" in config  # parameters only, no file
    skops_file = str(artifact.get("path", "")).endswith(".skops")
    if not pyfunc.get("model_code_path") or not (skops_file or btyd):
        raise UnsafeModelError(
            f"it is {model_format(info.flavors)}; only models logged by modeling.train (a"
            " skops estimator) load here (pickle formats run code from the file)"
        )
    path = None
    if not btyd:
        folder = Path(mlflow.artifacts.download_artifacts(uri)).resolve()
        path = (folder / artifact["path"]).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            raise UnsafeModelError(f"its skops file {artifact['path']!r} is not in the model")
    try:
        return ChurnModel().configure(path, config), info
    except UntrustedTypesFoundException as error:
        raise UnsafeModelError(f"it holds types this code does not trust: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UnsafeModelError(f"its model config is not a churn model's ({error!r})") from None


def _lookup(call: Callable[[], Any]) -> Any | None:
    """The registry's answer, or None when the model, version or alias does not
    exist; any other failure is the store's (one line)."""
    try:
        return call()
    except MlflowException as error:
        if error.error_code in NOT_FOUND:
            return None
        raise store_error(error) from None


def champion_version(client: MlflowClient, name: str) -> str | None:
    """The version holding the `champion` alias, or None when there is none."""
    found = _lookup(lambda: client.get_model_version_by_alias(name, CHAMPION))
    return None if found is None else str(found.version)


@dataclass(frozen=True)
class RegisteredModel:
    """A registered version, loaded: the model, its version and its tags."""

    model: ChurnModel
    version: str
    tags: dict[str, str]


def load_registered(name: str, version: str | None) -> RegisteredModel:
    """The registered model `name` (`version`, or the champion when None). A
    ModelingError when there is no such version or it cannot be loaded."""
    client = MlflowClient()
    wanted = f"version {version}" if version else f"alias @{CHAMPION}"
    version = version or champion_version(client, name)
    found = None if version is None else _lookup(lambda: client.get_model_version(name, version))
    if found is None:
        raise ModelingError(
            f"no registered model {name} with {wanted}: run `python -m modeling.train`"
            " on this warehouse, or pass --registered-model"
        )
    try:
        model, _ = load_version(name, version)
    except Exception as error:  # artifacts missing, untrusted types, other library versions
        raise ModelingError(
            f"cannot load {name} v{version}: {short_reason(error)}"
            " (train a new version, or pass --model-version)"
        ) from None
    return RegisteredModel(model, version, dict(found.tags))


@dataclass(frozen=True)
class Candidate:
    """What a training run offers the gate: its best model and how it scored."""

    model_uri: str
    score: float  # on the test rows, of the configuration refit through the test as_of
    features_sha256: str
    description: str
    tags: dict[str, str]
    test_as_of: str  # the first test snapshot (YYYY-MM-DD)
    logged_proba: np.ndarray  # what the logged model gives the test rows


@dataclass(frozen=True)
class GateDecision:
    version: str
    alias: str
    candidate_score: float
    champion_score: float | None
    champion_version: str | None
    reason: str
    error: str | None = None  # set when the champion could not be judged: it was kept


@dataclass(frozen=True)
class Judgement:
    """What the gate knows of the current champion on this run's test rows: its
    score, or why it was not scored and whether the candidate then takes over."""

    score: float | None = None
    reason: str | None = None  # why it was not scored
    candidate_takes_over: bool = False
    error: bool = False  # it could not be loaded or scored


def judge_champion(
    name: str, version: str, candidate: Candidate, x_test: pd.DataFrame, metric: Callable
) -> Judgement:
    """The champion is scored on this run's test rows only when it was built on the
    same features (else the candidate takes over: the champion cannot score this
    data) and never learned from those rows' labels (else it stays: a retrain on
    the same labels brings no fair comparison; newer labels will). A champion that
    cannot be loaded or scored is an error, not a loss."""
    found = MlflowClient().get_model_version(name, version)
    features = found.tags.get(FEATURES_TAG)
    if features != candidate.features_sha256:
        built_on = f"features {features[:12]}" if features else "no recorded features"
        return Judgement(
            reason=f"champion v{version} was built on {built_on}: not comparable",
            candidate_takes_over=True,
        )
    learned = found.tags.get(LABELS_TAG, "")
    if learned >= candidate.test_as_of:  # ISO dates compare as strings
        return Judgement(
            reason=f"champion v{version} learned from the labels of the test snapshot"
            f" {candidate.test_as_of} (through {learned}): not compared, it stays champion"
            " until newer labels can judge them"
        )
    try:
        model, _ = load_version(name, version)
        return Judgement(score=float(metric(model.churn_probability(x_test))))
    except Exception as error:  # whatever the reason, it is reported and the champion kept
        reason = f"champion v{version} cannot be loaded or scored: {short_reason(error)}"
        return Judgement(reason=reason, error=True)


def register_and_gate(
    name: str,
    candidate: Candidate,
    x_test: pd.DataFrame,
    metric: Callable[[np.ndarray], float],
    higher_is_better: bool,
) -> GateDecision:
    """Register the run's model with its description and tags, check that the
    registered copy is READY and predicts the test rows as the logged model did,
    then move `champion` to it if it beats the current champion on the same test
    rows, or the champion was built on other features; else mark it `challenger`.
    A champion that cannot be loaded keeps its alias (the decision's error says why)."""
    client = MlflowClient()
    current = champion_version(client, name)
    judged = Judgement()
    if current is not None:
        judged = judge_champion(name, current, candidate, x_test, metric)
    version = str(mlflow.register_model(candidate.model_uri, name).version)
    describe_version(name, version, candidate.description, candidate.tags)
    check_registered(name, version, candidate.logged_proba, x_test)
    if current is None:
        alias, reason = CHAMPION, "no champion yet"
    elif judged.error:
        alias, reason = CHALLENGER, f"{judged.reason}; it stays champion"
    elif judged.reason is not None:
        alias, reason = (CHAMPION if judged.candidate_takes_over else CHALLENGER), judged.reason
    elif not np.isclose(candidate.score, judged.score) and (
        (candidate.score > judged.score) == higher_is_better
    ):
        alias, reason = CHAMPION, f"beats champion v{current}"
    else:
        alias, reason = CHALLENGER, f"does not beat champion v{current}"
    client.set_registered_model_alias(name, alias, version)
    error = judged.reason if judged.error else None
    return GateDecision(version, alias, candidate.score, judged.score, current, reason, error)


def check_registered(
    name: str, version: str, logged_proba: np.ndarray, x_test: pd.DataFrame
) -> None:
    """The registered version is READY and, loaded as scoring loads it, gives the
    test rows the probabilities the logged model gave them: only then may an
    alias point at it."""
    status = MlflowClient().get_model_version(name, version).status
    if status != "READY":
        raise ModelingError(f"{name} v{version} is {status}, not READY: no alias moved")
    model, _ = load_version(name, version)
    if not np.allclose(model.churn_probability(x_test), logged_proba, rtol=1e-9, atol=1e-12):
        raise ModelingError(
            f"{name} v{version}, loaded from the registry, does not predict the test rows"
            " as the model the run logged: no alias moved"
        )


def describe_version(name: str, version: str, description: str, tags: dict[str, str]) -> None:
    """Set a registered version's description and tags."""
    client = MlflowClient()
    client.update_model_version(name, version, description=description)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
