"""Training, lineage, the champion gate and bad inputs, on a small built warehouse."""

from __future__ import annotations

import hashlib
import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.dummy import DummyClassifier

from modeling.data import LABEL_WINDOW_END
from modeling.errors import ModelingError
from modeling.evaluation import CampaignEconomics
from modeling.manifest import FeatureSpec, Manifest
from modeling.models import MODEL_NAMES
from modeling.registry import FEATURES_TAG, WAREHOUSE_TAG, use_tracking_store
from modeling.train import (
    RunSettings,
    choose_best,
    fit_and_evaluate,
    main,
    parse_args,
    plan_lines,
    prepare_training_data,
    run_params,
    train,
)
from tests.dbt_runner import copy_project, copy_warehouse, run_dbt
from tests.modeling.registered import FEATURE, model_name, register_churn_model
from warehouse import published
from warehouse.database import all_or_nothing

FAST = ["--models", "logistic_regression"]


def train_args(db, manifest, tmp_path, *extra):
    return [
        "--db",
        str(db),
        "--manifest",
        str(manifest),
        "--report",
        str(tmp_path / "report.html"),
        *extra,
    ]


def run_cli(argv, capsys) -> tuple[int, str]:
    """Exit status and the last stderr line (MLflow may log INFO lines before it)."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return exited.value.code, capsys.readouterr().err.strip().splitlines()[-1]


def child_runs(client: MlflowClient, parent_id: str):
    experiment = client.get_run(parent_id).info.experiment_id
    return client.search_runs(
        [experiment], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'"
    )


def test_training_logs_metrics_artifacts_lineage_and_a_champion(
    modeling_db, mlflow_store, tmp_path
):
    db, manifest = modeling_db
    result = train(parse_args(train_args(db, manifest, tmp_path)))
    client = MlflowClient()
    parent = client.get_run(result["run_id"])

    tags = parent.data.tags
    assert tags["dbt.manifest_sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert tags["dbt.features_sha256"] == Manifest(manifest).features_sha256()
    with published.connect(db) as con:
        built_by = con.execute(
            "select distinct build_id, features_sha256 from marts.customer_snapshots"
        ).fetchall()
    assert built_by == [(tags["dbt.build_id"], tags["dbt.data_features_sha256"])]
    assert tags["dbt.build_id"] == json.loads(manifest.read_text())["metadata"]["invocation_id"]
    assert tags["dbt.data_features_sha256"] == tags["dbt.features_sha256"]
    assert tags["dbt.stale_manifest"] == "false"
    assert len(tags["git.commit"]) >= 7
    assert tags["generator.seed"] == "11"
    parent_artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"dbt", "report", "model_comparison.json"} <= parent_artifacts
    # Every model, the BTYD baseline among them, beside the recency rule on the same rows
    # (no oracle: this warehouse has no ground truth).
    table = mlflow.load_table("model_comparison.json", run_ids=[parent.info.run_id])
    refit = tags["best_model"]  # the chosen family, refit on the latest labels
    assert refit.endswith("_refit") and refit.removesuffix("_refit") in MODEL_NAMES
    assert set(table["model"]) == {*MODEL_NAMES, refit, "recency_rule"}
    assert 0.5 < parent.data.metrics["test_recency_rule_roc_auc"] < 1
    assert "test_oracle_roc_auc" not in parent.data.metrics
    report_html = (tmp_path / "report.html").read_text()
    assert report_html.count("<img") >= 7
    # The best model's gain over BG/NBD, with a bootstrap interval, in MLflow and the report.
    gain = {k: v for k, v in parent.data.metrics.items() if k.startswith("best_vs_bg_nbd_")}
    for metric in ("roc_auc", "brier"):
        low, value, high = (
            gain[f"best_vs_bg_nbd_{metric}_difference{s}"] for s in ("_low", "", "_high")
        )
        assert low <= value <= high
    assert (
        f"ROC AUC {gain['best_vs_bg_nbd_roc_auc_difference']:+.4f} (95 % bootstrap" in report_html
    )

    children = child_runs(client, parent.info.run_id)
    assert {c.data.tags["mlflow.runName"] for c in children} == {
        "logistic_regression",
        "random_forest",
        "xgboost",
        "bg_nbd",
        tags["best_model"],
    }
    for child in children:
        metrics = child.data.metrics
        for name in (
            "test_roc_auc",
            "test_pr_auc",
            "test_log_loss",
            "test_brier",
            "test_calibration_error",
            "test_accuracy",
            "test_precision",
            "test_recall",
            "test_f1",
            "test_lift_top10",
            "test_recall_top10",
            "test_lift_top20",
            "test_recall_top20",
            "test_profit_best_model",
            "test_profit_uplift_vs_random",
        ):
            assert name in metrics, f"{child.data.tags['mlflow.runName']} lacks {name}"
        # The synthetic shop's churn is learnable, and the model beats random targeting.
        assert metrics["test_roc_auc"] > 0.75
        assert metrics["test_lift_top10"] > 1.5
        assert metrics["test_profit_uplift_vs_random"] > 0
        evaluation = {a.path for a in client.list_artifacts(child.info.run_id, "evaluation")}
        for png in ("roc_curve", "pr_curve", "calibration", "gains_lift", "profit_curve"):
            assert f"evaluation/{png}.png" in evaluation
        assert "evaluation/confusion_matrix.png" in evaluation
        assert "evaluation/top_predictors.csv" in evaluation
        contexts = {i.tags[0].value for i in child.inputs.dataset_inputs}
        assert contexts == {"training", "validation", "testing"}

    name = model_name(db)  # the warehouse's own experiment and registered model
    assert client.get_experiment(parent.info.experiment_id).name == name
    champion = client.get_model_version_by_alias(name, "champion")
    assert str(champion.version) == result["decision"].version == "1"
    info = mlflow.models.get_model_info(f"models:/{name}/1")
    assert info.signature is not None and info.saved_input_example_info is not None
    # The version says what it is: model, data, feature code, span and test metrics.
    best = champion.tags["model"]
    assert info.name == best  # the logged model is named after its family
    assert champion.tags[FEATURES_TAG] == tags["dbt.features_sha256"]
    assert champion.tags["git.commit"] == tags["git.commit"]
    assert champion.tags["warehouse"] == str(db)
    assert name.endswith(champion.tags[WAREHOUSE_TAG][:8])
    best_metrics = next(c for c in children if c.data.tags["mlflow.runName"] == best).data.metrics
    assert champion.tags["test_pr_auc"] == f"{best_metrics['test_pr_auc']:.4f}"
    assert champion.description.startswith(f"{best} trained on {db} (warehouse {name[-8:]},")


def test_the_oracle_is_compared_when_the_warehouse_has_ground_truth(
    built_db, mlflow_store, tmp_path
):
    db, target = built_db  # generated with --truth: the true churn probability per customer
    args = train_args(db, target / "manifest.json", tmp_path, "--models", "bg_nbd", "xgboost")
    result = train(parse_args(args))
    metrics = MlflowClient().get_run(result["run_id"]).data.metrics
    oracle = metrics["test_oracle_roc_auc"]
    assert max(m["test_roc_auc"] for m in result["metrics"].values()) < oracle < 1
    assert metrics["roc_auc_share_of_oracle"] < 1
    assert metrics["test_oracle_calibration_error"] < 0.05  # the truth is calibrated
    report = (tmp_path / "report.html").read_text()
    assert "oracle (the generator&#x27;s true probability)" in report and "bg_nbd" in report


def test_same_data_and_seed_give_identical_metrics_and_no_new_champion(
    modeling_db, mlflow_store, tmp_path
):
    db, manifest = modeling_db
    first = train(parse_args(train_args(db, manifest, tmp_path, *FAST)))
    second = train(parse_args(train_args(db, manifest, tmp_path, *FAST)))

    def without_timing(metrics):
        return {m: {k: v for k, v in ms.items() if k != "fit_seconds"} for m, ms in metrics.items()}

    assert without_timing(first["metrics"]) == without_timing(second["metrics"])
    assert first["decision"].alias == "champion"
    assert second["decision"].alias == "challenger"
    client = MlflowClient()
    name = model_name(db)
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    assert str(client.get_model_version_by_alias(name, "challenger").version) == "2"
    tags = client.get_run(second["run_id"]).data.tags
    # The champion learned from every labeled snapshot, the test one included: a
    # retrain on the same labels cannot be judged fairly, so it is not compared.
    test_as_of = client.get_model_version(name, "1").tags["test_as_of"]
    assert tags["registry.decision"] == (
        f"champion v1 learned from the labels of the test snapshot {test_as_of} (through"
        f" {test_as_of}): not compared, it stays champion until newer labels can judge them"
    )
    assert "gate_champion_test_pr_auc" not in client.get_run(second["run_id"]).data.metrics


def test_a_better_model_takes_over_from_a_weak_champion(modeling_db, mlflow_store, tmp_path):
    db, manifest = modeling_db
    train(parse_args(train_args(db, manifest, tmp_path, *FAST)))
    # A weak champion on the same features: always predicts the base rate (PR AUC =
    # base rate).
    frame = pd.DataFrame({FEATURE: [1.0, 2.0, 3.0, 4.0]})
    weak = DummyClassifier(strategy="prior").fit(frame, [0, 1, 0, 1])
    name = model_name(db)
    features = {FEATURES_TAG: Manifest(manifest).features_sha256()}
    version = register_churn_model(name, weak, features, alias="champion")

    result = train(parse_args(train_args(db, manifest, tmp_path, *FAST)))
    assert result["decision"].alias == "champion"
    assert result["decision"].champion_version == version
    assert result["decision"].candidate_score > result["decision"].champion_score
    client = MlflowClient()
    new = str(client.get_model_version_by_alias(name, "champion").version)
    assert new == result["decision"].version != version


def test_a_champion_built_on_other_features_is_not_compared(modeling_db, mlflow_store, tmp_path):
    """Its test score would not mean anything on rows of other features, and it
    cannot score this data (scoring refuses it): the new model takes over."""
    db, manifest = modeling_db
    registry_name = model_name(db)
    use_tracking_store()  # this test's store, not the one an earlier test left set
    mlflow.set_experiment(registry_name)
    weak = DummyClassifier(strategy="prior").fit(pd.DataFrame({FEATURE: [1.0, 2.0]}), [0, 1])
    old = register_churn_model(registry_name, weak, {FEATURES_TAG: "0" * 64}, alias="champion")

    result = train(parse_args(train_args(db, manifest, tmp_path, *FAST)))
    decision = result["decision"]
    assert (decision.alias, decision.champion_score) == ("champion", None)
    assert decision.reason == f"champion v{old} was built on features {'0' * 12}: not comparable"


def test_features_hash_is_stable_across_rebuilds_and_changes_with_the_sql(modeling_db, tmp_path):
    db, manifest = modeling_db
    rebuilt = copy_warehouse(db, tmp_path / "rebuilt.duckdb")
    run_dbt(["build"], rebuilt, tmp_path / "rebuilt_target")
    again = Manifest(tmp_path / "rebuilt_target" / "manifest.json")
    original = Manifest(manifest)
    assert again.invocation_id != original.invocation_id
    assert again.sha256 != original.sha256
    assert again.features_sha256() == original.features_sha256()

    project = copy_project(tmp_path / "project")
    sql = project / "dbt_project/models/intermediate/int_customer_activity_buckets.sql"
    # Any edit of an upstream model's SQL changes its checksum, hence the hash; an
    # appended comment keeps this test independent of how the model is written.
    sql.write_text(sql.read_text() + "\n-- edited: the features hash must change\n")
    run_dbt(["parse"], db, tmp_path / "edited_target", project=project)
    edited = Manifest(tmp_path / "edited_target" / "manifest.json")
    assert edited.features_sha256() != original.features_sha256()

    run_dbt(["parse"], db, tmp_path / "vars_target", vars_={"churn_window_days": 60})
    other_window = Manifest(tmp_path / "vars_target" / "manifest.json")
    assert other_window.features_sha256() != original.features_sha256()


def test_harmless_dbt_commands_do_not_block_training_other_feature_code_does(
    modeling_db, mlflow_store, tmp_path, capsys
):
    """Training compares the data's features hash with the manifest's: a manifest of
    any later invocation of the same code (dbt docs generate, dbt test) is fresh; one
    of other feature code or vars is refused unless --allow-stale-manifest."""
    db, manifest = modeling_db
    run_dbt(["docs", "generate"], db, tmp_path / "docs_target")
    later = tmp_path / "docs_target" / "manifest.json"
    assert Manifest(later).invocation_id != Manifest(manifest).invocation_id
    result = train(parse_args(train_args(db, later, tmp_path, *FAST)))
    assert result["tags"]["dbt.stale_manifest"] == "false"

    run_dbt(["parse"], db, tmp_path / "other_target", vars_={"churn_window_days": 60})
    other = tmp_path / "other_target" / "manifest.json"
    code, err = run_cli(train_args(db, other, tmp_path, *FAST), capsys)
    assert code == 1
    assert err.startswith("error: the published data was built by other feature code or vars")
    assert "\n" not in err
    client = MlflowClient()
    name = model_name(db)
    runs = client.search_runs([client.get_experiment_by_name(name).experiment_id])
    assert runs[0].info.status == "FAILED"  # the newest; nothing registered by it
    assert len(client.search_model_versions(f"name = '{name}'")) == 1

    result = train(parse_args(train_args(db, other, tmp_path, *FAST, "--allow-stale-manifest")))
    assert result["tags"]["dbt.stale_manifest"] == "true"


def _break(db, tmp_path, sql: str):
    """A copy of the warehouse whose published snapshots went through `sql` (run on
    the copy's working table, then republished), or with no published marts."""
    broken = copy_warehouse(db, tmp_path / "broken.duckdb")
    if sql == "unpublish":
        published.catalog_path(broken).unlink()
        return broken
    with all_or_nothing(broken) as con:
        con.execute(sql)
        published.republish(broken, con, ["marts.customer_snapshots"])
    return broken


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("unpublish", "no published marts at"),
        ("update marts.customer_snapshots set churned = null", "has no labeled rows"),
        ("update marts.customer_snapshots set churned = 0", "single class"),
        (
            "alter table marts.customer_snapshots drop column {feature}",
            "lacks column(s) the manifest declares: {feature}",
        ),
        (
            "delete from marts.customer_snapshots where as_of < date '2025-09-01'",
            "need at least 3 labeled snapshots",
        ),
        (
            "delete from marts.customer_snapshots where as_of not in "
            "(date '2025-05-01', date '2025-07-01', date '2025-10-01')",
            "empty training set",
        ),
    ],
    ids=[
        "missing_mart",
        "no_labels",
        "single_class",
        "missing_feature",
        "too_few_snapshots",
        "empty_training_set",
    ],
)
def test_bad_inputs_fail_in_one_line_and_leave_the_registry_alone(
    modeling_db, mlflow_store, tmp_path, capsys, sql, message
):
    db, manifest = modeling_db
    # Any feature the manifest declares (the catalog decides which exist).
    feature = Manifest(manifest).feature_spec().numeric[-1]
    sql, message = sql.format(feature=feature), message.format(feature=feature)
    broken = _break(db, tmp_path, sql)
    code, err = run_cli(train_args(broken, manifest, tmp_path, *FAST), capsys)
    assert code == 1
    assert err.startswith("error: ") and message in err and "\n" not in err
    client = MlflowClient(mlflow_store)  # this test's store, whatever MLflow was last set to
    experiment = client.get_experiment_by_name(model_name(db))  # the copy is the same shop
    if sql == "unpublish":  # no identity to name an experiment after: nothing started
        assert experiment is None
    else:
        runs = client.search_runs([experiment.experiment_id])
        assert [r.info.status for r in runs] == ["FAILED"]
    assert client.search_registered_models() == []


def test_unknown_model_name_is_a_usage_error(modeling_db, mlflow_store, tmp_path, capsys):
    db, manifest = modeling_db
    code, err = run_cli(train_args(db, manifest, tmp_path, "--models", "svm"), capsys)
    assert code == 2
    assert "invalid choice: 'svm'" in err and "\n" not in err


# Steps of a training run on a hand-made snapshot frame: no dbt build, no MLflow.

STEP_SPEC = FeatureSpec(
    "customer_id",
    "as_of",
    "churned",
    numeric=("days_since_last_order", "revenue_180d", "flat"),
    categorical=("segment",),
)


def hand_made_snapshots(customers: int = 60, seed: int = 0) -> pd.DataFrame:
    """Twelve monthly snapshots where churn follows recency; `flat` never varies."""
    rng = np.random.default_rng(seed)
    frames = []
    for month in range(1, 13):
        days = rng.uniform(0, 200, customers)
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": [f"C{i}" for i in range(customers)],
                    "as_of": pd.Timestamp(2024, month, 1),
                    "churned": (rng.random(customers) < days / 200).astype(int),
                    "days_since_last_order": days,
                    "revenue_180d": rng.gamma(2.0, 50.0, customers),
                    "flat": 1.0,
                    "segment": rng.choice(["value", "premium"], customers),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["segment"] = frame["segment"].astype("object")  # as read_snapshots gives it
    frame[LABEL_WINDOW_END] = frame["as_of"] + pd.Timedelta(days=90)
    return frame


def test_training_data_drops_constant_features():
    data = prepare_training_data(hand_made_snapshots(), STEP_SPEC, test_snapshots=1)
    assert data.dropped == ("flat",)
    assert data.features == ("days_since_last_order", "revenue_180d", "segment")
    x, y = data.xy("test")
    assert list(x.columns) == list(data.features) and set(y) == {0, 1}
    frame = hand_made_snapshots()
    frame[["days_since_last_order", "revenue_180d"]] = 0.0
    frame["segment"] = "value"
    with pytest.raises(ModelingError, match="every feature is constant"):
        prepare_training_data(frame, STEP_SPEC, test_snapshots=1)


def test_run_params_and_plan_describe_the_split(tmp_path):
    data = prepare_training_data(hand_made_snapshots(), STEP_SPEC, test_snapshots=1)
    settings = RunSettings.from_args(parse_args(["--db", str(tmp_path / "w.duckdb")]))
    params = run_params(settings, data)
    assert params["dropped_constant_features"] == "flat" and params["features"] == 3
    assert params["train_as_of"] == "2024-01-01..2024-06-01" and params["test_rows"] == 60
    assert params["models"] == ",".join(MODEL_NAMES)  # every family by default
    assert params["economics.offer_cost"] == 5.0
    assert plan_lines(data, params) == [
        "dropped features constant in training: flat",
        "training on 360 rows (2024-01-01..2024-06-01), validating on 2024-09-01,"
        " testing on 2024-12-01 (60 rows)",
    ]


def test_fit_and_evaluate_one_model():
    data = prepare_training_data(hand_made_snapshots(), STEP_SPEC, test_snapshots=1)
    result = fit_and_evaluate("logistic_regression", data, 42, CampaignEconomics())
    assert result.proba.shape == (60,) and 0 < result.threshold < 1
    assert {"test_pr_auc", "test_roc_auc", "test_profit_best_model", "fit_seconds"} <= set(
        result.metrics
    )
    assert result.metrics["test_roc_auc"] > 0.6  # churn follows recency
    assert set(result.importance["feature"]) == set(data.features)
    assert len(result.curves["model"]) == 61


def test_the_best_result_follows_the_metric_direction():
    results = {
        "a": {"metrics": {"test_pr_auc": 0.7, "test_log_loss": 0.5}},
        "b": {"metrics": {"test_pr_auc": 0.8, "test_log_loss": 0.6}},
    }
    assert choose_best(results, "test_pr_auc") is results["b"]
    assert choose_best(results, "test_log_loss") is results["a"]
