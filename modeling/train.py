"""Train churn models out of time on the snapshot mart, logged to MLflow with lineage.

Each run logs every model with its dbt lineage, registers the best one and moves
`champion` only if it wins.

    python -m modeling.train [--models xgboost ...] [--seed 42] [--test-snapshots 1]

The experiment and the registered model are the warehouse's own (named after
its identity, e.g. churn-warehouse-1a2b3c4d) unless --experiment or
--registered-model name others.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, replace
from importlib.metadata import version
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import skops.io
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature, infer_signature
from mlflow.types.schema import AnyType, ColSpec, Schema
from sklearn.metrics import average_precision_score

from modeling import churn_pyfunc, evaluation, plots, registry, report, runs, spark_marts
from modeling.churn_pyfunc import BgNbd, add_btyd_features
from modeling.data import (
    LABEL_WINDOW_END,
    SNAPSHOT_TABLE,
    Split,
    mart_rows,
    marts_and_manifest,
    read_snapshots,
    read_truth,
    split_out_of_time,
)
from modeling.errors import ModelingError, run_cli
from modeling.lineage import (
    WarehouseIdentity,
    check_features,
    data_lineage,
    generator_config,
    lineage_tags,
    warehouse_identity,
)
from modeling.manifest import DEFAULT_MANIFEST, FeatureSpec, Manifest
from modeling.models import (
    BTYD_MODELS,
    MODEL_NAMES,
    btyd_classifier,
    build_pipeline,
    fit,
    fit_btyd,
    hyperparameters,
    refit,
)
from warehouse.cli import Parser, number
from warehouse.database import quote_identifier, writable_folder_problem
from warehouse.spark import is_spark_warehouse

REPORT_PATH = Path("reports/churn_report.html")
# The metrics that pick the run's best model and decide the champion gate.
PRIMARY_METRICS = {f"test_{k}": v for k, v in evaluation.PROBABILITY_METRICS.items()}
IMPORTANCE_ROWS = 5_000  # permutation importance on a sample of the test snapshot
IMPORTANCE_REPEATS = 3
RECENCY_COLUMN = "days_since_last_order"
MAX_SEED = 2**32 - 1  # scikit-learn's and numpy's seeds


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line, checked: a bad option is a one-line usage error (exit 2)."""
    parser = Parser(prog="python -m modeling.train", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        nargs="+",
        choices=MODEL_NAMES,
        default=list(MODEL_NAMES),
        help="models to train",
    )
    parser.add_argument(
        "--seed", type=number(int, 0, MAX_SEED), default=42, help="random seed (default: 42)"
    )
    parser.add_argument(
        "--test-snapshots",
        type=number(int, 1),
        default=1,
        help="latest labeled snapshots to test on (default: 1)",
    )
    parser.add_argument(
        "--experiment", help="MLflow experiment (default: the warehouse's, churn-<name>-<id>)"
    )
    parser.add_argument(
        "--registered-model",
        help="registered model to add the version to (default: the warehouse's, as the experiment)",
    )
    parser.add_db_option(spark=True)
    parser.add_argument(
        "--spark-sample",
        type=number(float, 0, 1, low_open=True),
        default=1.0,
        help="with --target spark: read this share of the customers (all their snapshots),"
        " sampled in Spark, for a mart larger than memory (default 1: all)",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        help=f"dbt manifest (default: {DEFAULT_MANIFEST}; with --target spark, the Spark build's)",
    )
    parser.add_argument(
        "--primary-metric",
        choices=list(PRIMARY_METRICS),
        default="test_pr_auc",
        help="picks the run's best model and decides the champion gate",
    )
    parser.add_argument(
        "--allow-stale-manifest",
        action="store_true",
        help="train even if the data was built by other feature code or vars than the"
        " manifest describes (tagged stale)",
    )
    parser.add_argument("--report", type=Path, default=REPORT_PATH, help="HTML report path")
    evaluation.CampaignEconomics.add_arguments(parser)
    return parser.parse_args(argv)


def model_requirements() -> list[str]:
    """The packages a logged model needs, pinned to this environment: all it needs
    (tests/modeling/test_mlflow_model.py loads one with this project hidden).
    Given explicitly because MLflow's inference runs a subprocess per model (~10 s)."""
    names = ("mlflow", "scikit-learn", "xgboost-cpu" if sys.platform == "linux" else "xgboost")
    names += ("skops", "numpy", "pandas", "scipy")
    return [f"{n}=={version(n)}" for n in names]


# MLflow types of the mart's contract types. BIGINT, INTEGER and BOOLEAN columns are
# "any": MLflow's `long`/`integer`/`boolean` refuse a column with a null (pandas
# gives Int64/boolean, "cannot convert NA to integer") and `double` refuses int64,
# so no typed spec accepts the mart's rows; churn_pyfunc casts them itself.
SIGNATURE_TYPES = {"double": "double", "varchar": "string"}


def input_schema(features: list[str], column_types: dict[str, str]) -> Schema:
    """The logged models' input signature: each feature with its contract type."""
    return Schema(
        [
            ColSpec(SIGNATURE_TYPES[t] if t in SIGNATURE_TYPES else AnyType(), c)
            for c, t in ((c, column_types.get(c, "")) for c in features)
        ]
    )


OUTPUT_SCHEMA = Schema(
    [ColSpec("double", churn_pyfunc.PROBABILITY), ColSpec("long", churn_pyfunc.PREDICTED)]
)


def mlflow_dataset(frame: pd.DataFrame, source: str, label: str, name: str):
    """The frame as an MLflow dataset (digest of all rows). MLflow infers the schema
    value by value, ~5 s per 100k rows; the column types are the frame's dtypes,
    which a sample has too, so the schema is inferred from one (it is a
    cached_property: a value set in the instance's __dict__ is used as is)."""
    dataset = mlflow.data.from_pandas(frame, source=source, targets=label, name=name)
    dataset.__dict__["schema"] = infer_signature(frame.head(1000)).inputs
    return dataset


def constant_features(train: pd.DataFrame, features: list[str]) -> list[str]:
    return [c for c in features if train[c].nunique(dropna=False) <= 1]


def permutation_drops(estimator, x: pd.DataFrame, y: np.ndarray, seed: int) -> np.ndarray:
    """Drop in PR AUC when each feature is shuffled, per (feature, repeat). The
    same measure as sklearn's permutation_importance, but every shuffled copy is
    scored in one predict call: one call per copy spent most of its time in
    joblib's thread hand-offs (28 of the demo's 80 s of training)."""
    rng = np.random.default_rng(seed)
    copies = []
    for column in x.columns:
        for _ in range(IMPORTANCE_REPEATS):
            shuffled = x.copy()
            shuffled[column] = rng.permutation(x[column].to_numpy())
            copies.append(shuffled)
    proba = estimator.predict_proba(pd.concat(copies, ignore_index=True))[:, 1]
    proba = proba.reshape(len(x.columns), IMPORTANCE_REPEATS, len(x))
    baseline = average_precision_score(y, estimator.predict_proba(x)[:, 1])
    return baseline - np.array([[average_precision_score(y, p) for p in per] for per in proba])


def importance_table(estimator, x: pd.DataFrame, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Permutation importance on the test snapshot (drop in PR AUC when a feature is
    shuffled) and the direction of each feature's link with the predicted risk."""
    if len(x) > IMPORTANCE_ROWS:
        sample = np.sort(np.random.default_rng(seed).choice(len(x), IMPORTANCE_ROWS, replace=False))
        x, y = x.iloc[sample], y[sample]
    drops = permutation_drops(estimator, x, y, seed)
    risk = pd.Series(estimator.predict_proba(x)[:, 1], index=x.index)
    direction = {
        c: (x[c].astype(float).corr(risk, method="spearman") if x[c].dtype != object else np.nan)
        for c in x.columns
    }
    table = pd.DataFrame(
        {
            "feature": x.columns,
            "importance": drops.mean(axis=1),
            "importance_std": drops.std(axis=1),
            "correlation_with_risk": [direction[c] for c in x.columns],
        }
    )
    return table.sort_values("importance", ascending=False, ignore_index=True)


@dataclass(frozen=True)
class RunSettings:
    """What one training run is asked to do: the command line, parsed."""

    models: tuple[str, ...]
    seed: int
    test_snapshots: int
    primary_metric: str
    experiment: str | None  # None: the warehouse's own
    registered_model: str | None
    db_path: Path
    manifest_path: Path
    report_path: Path
    allow_stale_manifest: bool
    economics: evaluation.CampaignEconomics

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunSettings:
        db_path, manifest_path = marts_and_manifest(args)
        if args.target == "spark":
            spark_marts.use_sample(args.spark_sample)
        return cls(
            models=tuple(args.models),
            seed=args.seed,
            test_snapshots=args.test_snapshots,
            primary_metric=args.primary_metric,
            experiment=args.experiment,
            registered_model=args.registered_model,
            db_path=db_path,
            manifest_path=manifest_path,
            report_path=args.report,
            allow_stale_manifest=args.allow_stale_manifest,
            economics=evaluation.CampaignEconomics.from_args(args),
        )


@dataclass(frozen=True)
class TrainingData:
    """The out-of-time split a run trains on and the features it uses."""

    spec: FeatureSpec
    split: Split
    features: tuple[str, ...]
    dropped: tuple[str, ...]  # features constant in the training set

    @property
    def window_days(self) -> float:
        """The churn window: label_window_end - as_of (one var, the same on every row)."""
        train = self.split.train
        return float((train[LABEL_WINDOW_END] - train[self.spec.time_column]).dt.days.median())

    def xy(self, part: str) -> tuple[pd.DataFrame, np.ndarray]:
        """Features and integer label of one part: train, valid, test, refit or complete."""
        frame = getattr(self.split, part)
        return frame[list(self.features)], frame[self.spec.label_column].to_numpy(dtype=int)


@dataclass(frozen=True)
class Evaluation:
    """One fitted model and what it scored on the test snapshot."""

    estimator: object
    threshold: float
    proba: np.ndarray
    metrics: dict[str, float]
    curves: dict[str, np.ndarray]
    importance: pd.DataFrame
    fit_seconds: float
    btyd_features: dict | None = None  # the BG/NBD model whose features it reads


def read_labeled_snapshots(db_path: Path, spec: FeatureSpec) -> pd.DataFrame:
    """The mart's labeled rows; a ModelingError when there are none."""
    labeled = f"{quote_identifier(spec.label_column)} is not null"
    frame = read_snapshots(db_path, spec, where=labeled)
    if frame.empty:
        raise ModelingError(f"{SNAPSHOT_TABLE} has no labeled rows: nothing to train on")
    return frame


def prepare_training_data(
    frame: pd.DataFrame, spec: FeatureSpec, test_snapshots: int, models: tuple[str, ...] = ()
) -> TrainingData:
    """Split out of time and drop the features that are constant in training."""
    split = split_out_of_time(frame, spec, test_snapshots)
    dropped = constant_features(split.train, list(spec.features))
    features = [c for c in spec.features if c not in dropped]
    if not features:
        raise ModelingError("every feature is constant in the training set")
    missing = [c for c in churn_pyfunc.BTYD_COLUMNS if c not in features]
    if missing and set(models) & set(BTYD_MODELS):
        raise ModelingError(
            f"the BTYD baseline needs feature(s) {', '.join(missing)}, which the mart lacks or"
            " are constant in training: train without it (--models ...)"
        )
    return TrainingData(spec, split, tuple(features), tuple(dropped))


def run_params(settings: RunSettings, data: TrainingData) -> dict:
    """The parent run's params: settings, feature counts, split and economics."""
    return {
        "models": ",".join(settings.models),
        "seed": settings.seed,
        "test_snapshots": settings.test_snapshots,
        "primary_metric": settings.primary_metric,
        "features": len(data.features),
        "dropped_constant_features": ",".join(data.dropped) or "none",
        "source_table": SNAPSHOT_TABLE,
        "db_path": str(settings.db_path),
        # The engine the marts were read from, and the share of customers read
        # (modeling.spark_marts: a Spark mart may be sampled to fit in memory).
        "engine": "spark" if is_spark_warehouse(settings.db_path) else "duckdb",
        "sample_share": spark_marts.sample_share(),
        **data.split.describe(data.spec.time_column),
        **settings.economics.as_params(),
    }


def log_run_context(manifest: Manifest, tags: dict[str, str], params: dict, db_path: Path) -> None:
    """Lineage tags, the manifest, the params and the generator's config (if any)."""
    mlflow.set_tags(tags)
    mlflow.log_artifact(str(manifest.path), artifact_path="dbt")
    mlflow.log_params(params)
    generator = generator_config(db_path)
    if generator:
        mlflow.set_tag("generator.seed", str(generator.get("seed")))
        mlflow.log_dict(generator, "generator/run_config.json")


def plan_lines(data: TrainingData, params: dict) -> list[str]:
    """What the run trains and tests on, for the terminal."""
    lines = []
    if data.dropped:
        lines.append(f"dropped features constant in training: {', '.join(data.dropped)}")
    lines.append(
        f"training on {len(data.split.train):,} rows ({params['train_as_of']}), "
        f"validating on {params['valid_as_of']}, testing on {params['test_as_of']} "
        f"({len(data.split.test):,} rows)"
    )
    return lines


def dataset_inputs(data: TrainingData, db_path: Path) -> list[tuple[object, str]]:
    """The three parts as MLflow datasets, with the context each is logged under."""
    source = f"{db_path}#{SNAPSHOT_TABLE}"
    label = data.spec.label_column
    return [
        (mlflow_dataset(part, source, label, f"{SNAPSHOT_TABLE}:{ctx}"), ctx)
        for part, ctx in (
            (data.split.train, "training"),
            (data.split.valid, "validation"),
            (data.split.test, "testing"),
        )
    ]


def run_btyd(data: TrainingData, seed: int) -> BgNbd | None:
    """The run's BG/NBD fit on the training rows, logged as params of the parent run,
    or None when the mart lacks the purchase history columns it reads."""
    if any(c not in data.features for c in churn_pyfunc.BTYD_COLUMNS):
        return None
    params = fit_btyd(data.xy("train")[0], seed)
    mlflow.log_params({f"btyd.{k}": v for k, v in asdict(params).items()})
    return params


def model_inputs(
    name: str, data: TrainingData, part: str, btyd: BgNbd | None
) -> tuple[pd.DataFrame, np.ndarray]:
    """A part's features and labels as family `name` reads them: the pipelines get
    BG/NBD's view of each customer as two more features."""
    x, y = data.xy(part)
    if btyd is not None and name not in BTYD_MODELS:
        x = add_btyd_features(x, btyd, data.window_days)
    return x, y


def fit_selection(
    name: str, data: TrainingData, seed: int, btyd: BgNbd | None
) -> tuple[object, float]:
    """Fit one model family on train (validation serves early stopping and the
    calibration) and pick its F1 threshold on validation."""
    x_valid, y_valid = model_inputs(name, data, "valid", btyd)
    if name in BTYD_MODELS:
        if btyd is None:  # prepare_training_data refuses this before any fit
            raise ModelingError(f"{name} needs the BTYD fit of the run")
        estimator = btyd_classifier(btyd, x_valid, y_valid, data.window_days)
    else:
        numeric = [c for c in data.spec.numeric if c in data.features]
        numeric += list(churn_pyfunc.BTYD_FEATURES) if btyd is not None else []
        categorical = [c for c in data.spec.categorical if c in data.features]
        pipeline = build_pipeline(name, numeric, categorical, seed)
        x_train, y_train = model_inputs(name, data, "train", btyd)
        estimator = fit(name, pipeline, x_train, y_train, x_valid, y_valid)
    threshold = evaluation.f1_threshold(y_valid, estimator.predict_proba(x_valid)[:, 1])
    return estimator, threshold


def fit_and_evaluate(
    name: str,
    data: TrainingData,
    seed: int,
    economics: evaluation.CampaignEconomics,
    btyd: BgNbd | None = None,
    selected: Evaluation | None = None,
    test: tuple[pd.DataFrame, np.ndarray] | None = None,
) -> Evaluation:
    """Fit one model family, pick its F1 threshold on validation, and score the test
    snapshot: metrics, profit curves and permutation importance. `btyd` (the run's
    BG/NBD fit) is the baseline family's model and the others' BTYD features. With
    `selected` (that family's evaluation), refit its configuration on the refit
    part instead, keeping its threshold (docs/modeling.md, "Refit on the latest
    labels"). `test`: the family's test inputs, when the caller has them."""
    x_test, y_test = test if test is not None else model_inputs(name, data, "test", btyd)
    started = time.perf_counter()
    if selected is not None:
        estimator = refit(selected.estimator, *model_inputs(name, data, "refit", btyd), seed)
        threshold = selected.threshold
    else:
        estimator, threshold = fit_selection(name, data, seed, btyd)
    fit_seconds = time.perf_counter() - started
    proba = estimator.predict_proba(x_test)[:, 1]
    metrics = {
        f"test_{k}": v
        for k, v in evaluation.classification_metrics(y_test, proba, threshold).items()
    }
    curves = evaluation.campaign_curves(
        economics,
        y_test,
        proba,
        data.split.test[economics.value_column].to_numpy(),
        data.split.test[RECENCY_COLUMN].to_numpy(),
    )
    metrics |= {f"test_{k}": v for k, v in evaluation.campaign_metrics(curves).items()}
    metrics["fit_seconds"] = fit_seconds
    importance = importance_table(estimator, x_test, y_test, seed)
    btyd_features = None
    if btyd is not None and name not in BTYD_MODELS:
        btyd_features = {"bg_nbd": asdict(btyd), "window_days": data.window_days}
    return Evaluation(
        estimator, threshold, proba, metrics, curves, importance, fit_seconds, btyd_features
    )


@dataclass(frozen=True)
class ModelInterface:
    """What every logged model declares: its input signature, an input example
    of real mart rows, and the feature columns by kind."""

    inputs: Schema
    example: pd.DataFrame
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]


def model_interface(data: TrainingData, manifest: Manifest, db_path: Path) -> ModelInterface:
    features = list(data.features)
    test_as_of = pd.Timestamp(data.split.test[data.spec.time_column].max()).date()
    where = f"{quote_identifier(data.spec.time_column)} = date '{test_as_of.isoformat()}'"
    return ModelInterface(
        inputs=input_schema(features, manifest.column_types()),
        example=mart_rows(db_path, features, where, limit=5),
        numeric=tuple(c for c in data.spec.numeric if c in features),
        categorical=tuple(c for c in data.spec.categorical if c in features),
    )


def log_churn_model(
    name: str,
    estimator,
    interface: ModelInterface,
    threshold: float,
    btyd_features: dict | None = None,
):
    """Log a fitted estimator as a churn model (churn_pyfunc, logged as code, over a
    skops file of the pipeline, or the BG/NBD parameters in its config; the
    calibration map in its config) to the active run; returns MLflow's ModelInfo."""
    config = {
        "numeric": list(interface.numeric),
        "categorical": list(interface.categorical),
        "threshold": threshold,
    }
    if btyd_features:
        config["btyd_features"] = btyd_features
    if isinstance(estimator, churn_pyfunc.BgNbdChurn):
        config |= {"numeric": list(churn_pyfunc.BTYD_COLUMNS), "categorical": []}
        config |= {"bg_nbd": asdict(estimator.params), "window_days": estimator.window_days}
    if estimator.calibration is not None:
        config["calibration"] = estimator.calibration.to_config()
    used = config["numeric"] + config["categorical"]  # the signature asks for these only
    inputs = Schema([c for c in interface.inputs.inputs if c.name in used])
    with tempfile.TemporaryDirectory() as tmp:
        artifacts = {}
        if "bg_nbd" not in config:
            artifacts[churn_pyfunc.ESTIMATOR_ARTIFACT] = str(Path(tmp) / "estimator.skops")
            skops.io.dump(estimator.pipeline, artifacts[churn_pyfunc.ESTIMATOR_ARTIFACT])
        with registry.quiet("mlflow"):  # it announces the input example's validation
            return mlflow.pyfunc.log_model(
                name=name,
                python_model=churn_pyfunc.__file__,
                artifacts=artifacts or None,
                model_config=config,
                signature=ModelSignature(inputs=inputs, outputs=OUTPUT_SCHEMA),
                input_example=interface.example[used],
                pip_requirements=model_requirements(),
            )


def log_model(
    name: str, result: Evaluation, interface: ModelInterface, y_test: np.ndarray
) -> tuple[str, dict[str, bytes]]:
    """Log one model's params, metrics, evaluation files and the model itself to the
    active run; returns the model's URI and its plots (file name -> PNG bytes). The
    model is a pyfunc (churn_pyfunc, logged as code) over the skops estimator."""
    hyper = hyperparameters(result.estimator)
    mlflow.log_params({"model": name, **{f"model.{k}": v for k, v in hyper.items()}})
    mlflow.log_metrics(result.metrics)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        figures = plots.evaluation_plots(
            y_test, result.proba, result.threshold, result.curves, result.importance, name, out
        )
        result.importance.to_csv(out / "top_predictors.csv", index=False)
        pd.DataFrame(result.curves | {"k": np.arange(len(result.proba) + 1)}).to_csv(
            out / "profit_curve.csv", index=False
        )
        mlflow.log_artifacts(str(out), artifact_path="evaluation")
        figure_bytes = {p.name: p.read_bytes() for p in figures}
    info = log_churn_model(
        name, result.estimator, interface, result.threshold, result.btyd_features
    )
    return info.model_uri, figure_bytes


def train_one(
    name: str,
    data: TrainingData,
    seed: int,
    economics: evaluation.CampaignEconomics,
    datasets: list[tuple[object, str]],
    interface: ModelInterface,
    btyd: BgNbd | None,
    selected: dict | None = None,
) -> dict:
    """Fit, evaluate and log one model in a child run; return its results. With
    `selected` (the chosen family's results) the run is its refit, `<name>_refit`:
    evaluated on test after a refit through the test as_of, it logs the model
    refit on every complete label, the one to register."""
    run_name = name if selected is None else f"{name}_refit"
    with mlflow.start_run(run_name=run_name, nested=True, tags=runs.process_tags()) as run:
        for dataset, context in datasets:
            mlflow.log_input(dataset, context=context)
        previous = None if selected is None else selected["evaluation"]
        x_test, y_test = model_inputs(name, data, "test", btyd)
        result = fit_and_evaluate(name, data, seed, economics, btyd, previous, (x_test, y_test))
        logged = result
        if previous is not None:  # evaluated through the test as_of, logged on all labels
            complete = refit(previous.estimator, *model_inputs(name, data, "complete", btyd), seed)
            logged = replace(result, estimator=complete)
        model_uri, figures = log_model(run_name, logged, interface, y_test)
        metrics = result.metrics
        print(
            f"  {run_name:<20} PR AUC {metrics['test_pr_auc']:.3f}"
            f"  ROC AUC {metrics['test_roc_auc']:.3f}"
            f"  best campaign profit {metrics['test_profit_best_model']:,.0f}"
            f"  ({result.fit_seconds:.1f} s)"
        )
    return {
        "name": run_name,
        "family": name,
        "run_id": run.info.run_id,
        "model_uri": model_uri,
        "metrics": metrics,
        "importance": result.importance,
        "figures": figures,
        "proba": result.proba,
        "evaluation": result,
        # What the logged model gives the test rows: the registry's copy must agree.
        "logged_proba": (
            result.proba if logged is result else logged.estimator.predict_proba(x_test)[:, 1]
        ),
    }


def choose_best(results: dict[str, dict], primary_metric: str) -> dict:
    """The result with the best primary metric (the first listed on a tie)."""
    _, higher_is_better = PRIMARY_METRICS[primary_metric]
    ranked = sorted(
        results.values(), key=lambda r: r["metrics"][primary_metric], reverse=higher_is_better
    )
    return ranked[0]


def gate(
    best: dict, data: TrainingData, settings: RunSettings, names: ModelNames, card: tuple
) -> registry.GateDecision:
    """Register the best model with its card, let it take `champion` only if it beats
    the current one on this test snapshot (or the champion was built on other
    features), and log the decision on the parent run."""
    metric_fn, higher_is_better = PRIMARY_METRICS[settings.primary_metric]
    x_test, y_test = data.xy("test")
    description, tags = card
    candidate = registry.Candidate(
        best["model_uri"],
        best["metrics"][settings.primary_metric],
        tags[registry.FEATURES_TAG],
        description,
        tags,
        test_as_of=tags["test_as_of"],
        logged_proba=best["logged_proba"],
    )
    decision = registry.register_and_gate(
        names.registered_model,
        candidate,
        x_test,
        lambda proba: metric_fn(y_test, proba),
        higher_is_better,
    )
    mlflow.set_tags(
        {
            "best_model": best["name"],
            "registry.model": names.registered_model,
            "registry.version": decision.version,
            "registry.alias": decision.alias,
            "registry.decision": decision.reason,
        }
    )
    mlflow.log_metric(f"gate_candidate_{settings.primary_metric}", decision.candidate_score)
    if decision.champion_score is not None:
        mlflow.log_metric(f"gate_champion_{settings.primary_metric}", decision.champion_score)
    print(
        f"best: {best['name']} ({settings.primary_metric} {decision.candidate_score:.4f}) "
        f"registered as {names.registered_model} v{decision.version}"
        f" -> @{decision.alias} ({decision.reason})"
    )
    return decision


def reference_metrics(data: TrainingData, db_path: Path) -> dict[str, dict[str, float]]:
    """What the models are measured against on the same test rows: the recency rule
    (longest since the last order = riskiest; ranking metrics only) and, when the
    warehouse has the generator's ground truth for every test row, the oracle (the
    true churn probability: the best any model can do)."""
    test, (_, y_test) = data.split.test, data.xy("test")
    recency = test[RECENCY_COLUMN].to_numpy(dtype="float64", na_value=np.nan)
    references = {"recency_rule": evaluation.ranking_metrics(y_test, np.nan_to_num(recency))}
    keys = [data.spec.id_column, data.spec.time_column]
    truth = read_truth(db_path, data.spec, sorted(test[data.spec.time_column].unique()))
    if truth is not None:
        oracle = test[keys].merge(truth, on=keys, how="left")["p_no_completed_order"]
        if oracle.notna().all():
            references["oracle"] = evaluation.probability_metrics(y_test, oracle.to_numpy())
    return {name: {f"test_{k}": v for k, v in m.items()} for name, m in references.items()}


COMPARED_METRICS = ("test_roc_auc", "test_pr_auc", "test_brier", "test_log_loss")
COMPARED_METRICS += ("test_calibration_error",)


def log_comparison(results: dict[str, dict], references: dict[str, dict[str, float]]) -> None:
    """Every model, the BTYD baseline among them, and the references on the same test
    rows, as one table on the parent run (model_comparison.json) and as metrics
    (test_oracle_roc_auc, test_recency_rule_pr_auc, ...; roc_auc_share_of_oracle)."""
    rows = {name: r["metrics"] for name, r in results.items()} | references
    table = pd.DataFrame(
        [
            {"model": name} | {k: m.get(k, np.nan) for k in COMPARED_METRICS}
            for name, m in rows.items()
        ]
    )
    mlflow.log_table(table, "model_comparison.json")
    for name, metrics in references.items():
        mlflow.log_metrics({k.replace("test_", f"test_{name}_", 1): v for k, v in metrics.items()})
    if "oracle" in references:
        top = max(r["metrics"]["test_roc_auc"] for r in results.values())
        mlflow.log_metric("roc_auc_share_of_oracle", top / references["oracle"]["test_roc_auc"])


def log_gain_over_btyd(results: dict[str, dict], best: str, y_test) -> dict[str, float]:
    """The best model's gain over BG/NBD with bootstrap intervals, logged as
    best_vs_bg_nbd_roc_auc_difference[_low, _high] and ..._brier_..., when both ran."""
    baseline = BTYD_MODELS[0]
    if baseline not in results or results[best]["family"] == baseline:
        return {}
    gain = evaluation.paired_bootstrap(y_test, results[best]["proba"], results[baseline]["proba"])
    mlflow.log_metrics({f"best_vs_{baseline}_{k}": v for k, v in gain.items()})
    return gain


def write_report(path: Path, html: str) -> None:
    """Write the HTML report and log it with the parent run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html)
    mlflow.log_artifact(str(path), artifact_path="report")


@dataclass(frozen=True)
class ModelNames:
    """Where a run logs: its experiment and registered model (the warehouse's own
    unless flags name others) and the warehouse's identity."""

    experiment: str
    registered_model: str
    identity: WarehouseIdentity

    @classmethod
    def of(cls, settings: RunSettings) -> ModelNames:
        identity = warehouse_identity(settings.db_path)
        return cls(
            settings.experiment or identity.model_name,
            settings.registered_model or identity.model_name,
            identity,
        )


def train(args: argparse.Namespace) -> dict:
    """Train every requested model in one parent run (see the module docstring)."""
    settings = RunSettings.from_args(args)
    check_report_path(settings.report_path)
    manifest = Manifest(settings.manifest_path)  # the local inputs first, then the store
    names = ModelNames.of(settings)
    # MLflow cannot tell what kind of source "<file>#<table>" is; it is a DuckDB table.
    warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
    # The datasets' label column is an integer; the model signature has no integers.
    warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")
    tracking_uri = registry.use_tracking_store()
    try:
        with registry.quiet("mlflow"):  # it notes that it creates the experiment
            experiment = mlflow.set_experiment(names.experiment)
    except MlflowException as error:
        reason = registry.short_reason(error)
        raise ModelingError(f"--experiment {names.experiment!r}: {reason}") from None
    try:
        dangling = runs.fail_dangling_runs(MlflowClient(), experiment.experiment_id)
        if dangling:
            print(f"marked {len(dangling)} run(s) FAILED: {runs.DANGLING_REASON}")
        with (
            runs.failing_on_signals(),
            mlflow.start_run(run_name="train", tags=runs.process_tags()) as parent,
        ):
            try:
                result = _train_in_run(settings, manifest, names, tracking_uri)
            except ModelingError as error:
                mlflow.set_tag("error", str(error))
                raise
    except MlflowException as error:  # the store failed after the check
        raise registry.store_error(error) from None
    return {"run_id": parent.info.run_id, **result}


def check_report_path(path: Path) -> None:
    """The report is written last: refuse a path it cannot be written to up front."""
    problem = writable_folder_problem(path.parent)
    if problem is None and path.is_dir():
        problem = f"{path} is a folder"
    if problem is not None:
        raise ModelingError(f"--report {path}: {problem} (give a file path you can write)")


def _train_in_run(
    settings: RunSettings, manifest: Manifest, names: ModelNames, tracking_uri: str
) -> dict:
    """The steps of a run, inside the active parent run."""
    spec = manifest.feature_spec()
    frame = read_labeled_snapshots(settings.db_path, spec)
    build_id, data_hash = data_lineage(frame)
    fresh = check_features(manifest, data_hash, settings.allow_stale_manifest)
    data = prepare_training_data(frame, spec, settings.test_snapshots, settings.models)
    tags = lineage_tags(manifest, build_id, data_hash, fresh)
    params = run_params(settings, data)
    log_run_context(manifest, tags, params, settings.db_path)
    print("\n".join(plan_lines(data, params)))
    datasets = dataset_inputs(data, settings.db_path)
    interface = model_interface(data, manifest, settings.db_path)
    btyd = run_btyd(data, settings.seed)
    results = {
        name: train_one(name, data, settings.seed, settings.economics, datasets, interface, btyd)
        for name in settings.models
    }
    chosen = choose_best(results, settings.primary_metric)
    best = train_one(
        chosen["family"], data, settings.seed, settings.economics, datasets, interface, btyd, chosen
    )
    results[best["name"]] = best
    references = reference_metrics(data, settings.db_path)
    log_comparison(results, references)
    gain = log_gain_over_btyd(results, best["name"], data.xy("test")[1])
    card = version_card(best, tags, params, names.identity)
    decision = gate(best, data, settings, names, card)
    summary = {name: r["metrics"] for name, r in results.items()}
    html = report.render(
        results=results,
        best=best["name"],
        decision=asdict(decision),
        params=params,
        tags=tags,
        economics=settings.economics,
        primary_metric=settings.primary_metric,
        references=references,
        gain_over_btyd=gain,
        descriptions={c: v["description"] for c, v in manifest.model()["columns"].items()},
    )
    write_report(settings.report_path, html)
    print(f"report: {settings.report_path}   runs: mlflow ui --backend-store-uri {tracking_uri}")
    if decision.error is not None:
        raise ModelingError(
            f"{decision.error}: kept it as champion of {names.registered_model}, the new"
            f" model is v{decision.version} @challenger (docs/modeling.md, 'Moving the"
            " champion by hand')"
        )
    return {"decision": decision, "metrics": summary, "tags": tags, "params": params}


def version_card(
    best: dict, tags: dict[str, str], params: dict, identity: WarehouseIdentity
) -> tuple[str, dict[str, str]]:
    """A registered version's description and tags: which model, warehouse, feature
    code, training span and test metrics it carries (readable in the registry's UI;
    scoring checks the warehouse and features tags)."""
    metrics = best["metrics"]
    card = {
        "model": best["name"],
        registry.WAREHOUSE_TAG: identity.id,
        "warehouse": str(params["db_path"]),
        "train_as_of": str(params["train_as_of"]),
        "test_as_of": str(params["test_as_of"]),
        # The labeled snapshots the registered model learned from (all of them).
        registry.LABELS_TAG: str(params["complete_as_of"]).split("..")[-1],
        # The features of the rows it learned from (the manifest's, unless stale).
        registry.FEATURES_TAG: tags["dbt.data_features_sha256"],
        **{k: tags[k] for k in ("dbt.build_id", "git.commit")},
        **{k: f"{metrics[k]:.4f}" for k in ("test_pr_auc", "test_roc_auc", "test_brier")},
    }
    description = (
        f"{best['name']} trained on {card['warehouse']} (warehouse {identity.id[:8]},"
        f" snapshots {card['train_as_of']});"
        f" test {card['test_as_of']}: PR AUC {card['test_pr_auc']}, ROC AUC"
        f" {card['test_roc_auc']}, Brier {card['test_brier']}; features"
        f" {card['dbt.features_sha256'][:12]}, dbt build {card['dbt.build_id'][:8]}"
    )
    return description, card


def main(argv: list[str] | None = None) -> None:
    run_cli(lambda: train(parse_args(argv)))


if __name__ == "__main__":
    main()
