"""Training and scoring refuse a bad flag, store or file up front in one line
(exit 2 for a usage error, 1 otherwise) and write nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date
from types import SimpleNamespace

import duckdb
import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.dummy import DummyClassifier

from modeling import registry, score, train
from modeling.errors import ModelingError
from modeling.manifest import Manifest
from tests.dbt_runner import copy_warehouse
from tests.modeling.registered import model_name, register_churn_model
from tests.seeds_gen.processes import held_open

CLIS = {"train": train.main, "score": score.main}
ECONOMICS = [
    (["--offer-cost", "-5"], "--offer-cost: must be a finite number >= 0, got '-5'"),
    (["--offer-cost", "inf"], "--offer-cost: must be a finite number >= 0, got 'inf'"),
    (["--offer-success-rate", "7"], "--offer-success-rate: must be a finite number in [0, 1]"),
    (["--margin-rate", "nan"], "--margin-rate: must be a finite number in [0, 1], got 'nan'"),
    (["--value-horizon-days", "0"], "--value-horizon-days: must be a whole number in (0, 36,500]"),
]


def run(cli: str, argv: list[str], capsys) -> tuple[int, list[str]]:
    """Exit status and stderr lines of a CLI run in this process."""
    with pytest.raises(SystemExit) as exited:
        CLIS[cli](argv)
    return exited.value.code, capsys.readouterr().err.strip().splitlines()


def assert_one_line(lines: list[str], message: str) -> None:
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


@pytest.mark.parametrize("cli", CLIS)
@pytest.mark.parametrize(("args", "message"), ECONOMICS)
def test_economics_out_of_range_are_usage_errors(cli, args, message, mlflow_store, capsys):
    code, lines = run(cli, args, capsys)
    assert code == 2
    assert_one_line(lines, message)
    assert os.listdir(".") == []  # no store, no report


@pytest.mark.parametrize(
    ("cli", "args", "message"),
    [
        ("train", ["--test-snapshots", "0"], "--test-snapshots: must be a whole number >= 1"),
        ("train", ["--seed", "-1"], "--seed: must be a whole number in [0, 4,294,967,295]"),
        ("train", ["--seed", "1.5"], "--seed: '1.5' is not a whole number"),
        ("score", ["--model-version", "0"], "--model-version: must be a whole number >= 1"),
        ("score", ["--model-version", "latest"], "'latest' is not a whole number"),
        ("score", ["--as-of", "2025-13-01"], "--as-of: not a date (YYYY-MM-DD): '2025-13-01'"),
    ],
)
def test_other_numbers_and_dates_are_usage_errors(cli, args, message, mlflow_store, capsys):
    code, lines = run(cli, args, capsys)
    assert code == 2
    assert_one_line(lines, message)


def test_the_issues_example_registers_no_champion(modeling_db, mlflow_store, tmp_path, capsys):
    db, manifest = modeling_db
    argv = ["--db", str(db), "--manifest", str(manifest), "--offer-cost", "-5"]
    code, lines = run("train", [*argv, "--offer-success-rate", "7"], capsys)
    assert code == 2 and len(lines) == 1
    assert not (tmp_path / "mlflow.db").exists()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bad_stores(tmp_path) -> dict[str, tuple[str, str]]:
    """Tracking URIs that cannot work, and the reason each must give."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("these are notes, not a database\n")
    return {
        "missing_folder": (f"sqlite:///{tmp_path}/missing/mlflow.db", "does not exist"),
        "file_as_folder": (f"sqlite:///{blocker}/mlflow.db", "is a file, not a folder"),
        "not_sqlite": (f"sqlite:///{not_sqlite}", "file is not a database"),
        "unreachable": (f"http://127.0.0.1:{closed_port()}", "the server is unreachable"),
    }


@pytest.mark.parametrize("store", ["missing_folder", "file_as_folder", "not_sqlite", "unreachable"])
@pytest.mark.parametrize("cli", CLIS)
def test_a_store_that_cannot_work_is_one_line_naming_it(
    cli, store, modeling_db, tmp_path, monkeypatch, capsys
):
    db, manifest = modeling_db
    uri, reason = bad_stores(tmp_path)[store]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    argv = ["--db", str(db), "--manifest", str(manifest)]
    code, lines = run(cli, argv, capsys)
    assert code == 1
    assert_one_line(lines, f"error: cannot use the MLflow tracking store {uri}: ")
    assert reason in lines[0]
    assert lines[0].endswith(
        "(set MLFLOW_TRACKING_URI to a store that works, e.g. sqlite:///mlflow.db)"
    )
    assert sorted(os.listdir(tmp_path)) == before


def test_an_unreachable_server_fails_in_seconds_through_python_m(modeling_db, tmp_path):
    db, manifest = modeling_db  # the local inputs are checked first: they must be good
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{closed_port()}"}
    argv = ["--db", str(db), "--manifest", str(manifest), "--report", str(tmp_path / "r.html")]
    result = subprocess.run(
        [sys.executable, "-m", "modeling.train", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert_one_line(result.stderr.strip().splitlines(), "the server is unreachable")


def test_a_deleted_experiment_is_one_line(modeling_db, mlflow_store, capsys):
    db, manifest = modeling_db
    mlflow.set_tracking_uri(mlflow_store)
    client = MlflowClient()
    client.delete_experiment(client.create_experiment("old"))
    capsys.readouterr()  # MLflow's notes while creating the store
    code, lines = run(
        "train", ["--db", str(db), "--manifest", str(manifest), "--experiment", "old"], capsys
    )
    assert code == 1
    assert_one_line(lines, "--experiment 'old': Cannot set a deleted experiment")


def test_a_report_path_that_cannot_be_written_is_refused_up_front(mlflow_store, tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    code, lines = run("train", ["--report", str(tmp_path / "a_file" / "r.html")], capsys)
    assert code == 1
    assert_one_line(
        lines, f"--report {tmp_path / 'a_file' / 'r.html'}: {tmp_path / 'a_file'} is a file"
    )
    assert sorted(os.listdir(tmp_path)) == ["a_file"]  # no store either


@pytest.mark.parametrize("cli", CLIS)
def test_warehouse_files_that_cannot_be_used(cli, modeling_db, mlflow_store, tmp_path, capsys):
    db, manifest = modeling_db
    argv = ["--manifest", str(manifest)]
    code, lines = run(cli, [*argv, "--db", str(tmp_path / "marts.duckdb")], capsys)
    assert code == 1
    assert_one_line(lines, "DuckDB names the database 'marts' after the file")
    export = tmp_path / "snapshots.csv"
    export.write_text("customer_id,as_of\n")
    code, lines = run(cli, [*argv, "--db", str(export)], capsys)
    assert code == 1
    assert_one_line(lines, f"cannot open {export}: it is not a DuckDB database")
    (tmp_path / "folder").mkdir()
    code, lines = run(cli, [*argv, "--manifest", str(tmp_path / "folder")], capsys)
    assert code == 1
    assert_one_line(lines, f"cannot read dbt manifest {tmp_path / 'folder'}: Is a directory")


def test_scoring_a_warehouse_another_process_writes(modeling_db, mlflow_store, tmp_path, capsys):
    """Scoring reads the published marts, which no writer blocks; writing the scores
    back into a warehouse that a process outside our lock (a DuckDB shell, a
    notebook) holds open fails in one line naming that process."""
    source, manifest = modeling_db
    db = copy_warehouse(source, tmp_path / "warehouse.duckdb")
    argv = ["--db", str(db), "--manifest", str(manifest)]
    train.train(train.parse_args([*argv, "--models", "logistic_regression"]))
    capsys.readouterr()  # MLflow's registration lines
    with held_open(db) as holder:
        code, lines = run("score", argv, capsys)
    assert code == 1
    assert_one_line(
        lines, f"cannot open database {db}: process {holder.pid} has it open for writing"
    )


def test_a_champion_that_cannot_be_scored_for_any_reason_is_judged_not_crashed(monkeypatch):
    """The gate re-scores the champion; whatever breaks there (not only MLflow's,
    key and value errors) is reported as the reason it cannot be judged."""

    def unloadable(name, version):
        raise TypeError("an sklearn of another version cannot read it")

    monkeypatch.setattr(registry, "load_version", unloadable)
    monkeypatch.setattr(
        registry.MlflowClient,
        "get_model_version",
        lambda self, name, version: SimpleNamespace(tags={registry.FEATURES_TAG: "f" * 64}),
    )
    candidate = registry.Candidate(
        "models:/m/1", 0.5, "f" * 64, "", {}, test_as_of="2025-10-01", logged_proba=None
    )
    x = pd.DataFrame({"days_since_last_order": [1.0, 2.0]})
    assert registry.judge_champion("shop", "4", candidate, x, lambda proba: 0.5) == (
        registry.Judgement(
            reason="champion v4 cannot be loaded or scored: an sklearn of another version"
            " cannot read it",
            error=True,
        )
    )


def remove_model_files() -> None:
    """Delete the models' estimator files under the working folder (the store's artifacts)."""
    for folder, _, files in os.walk("."):
        for file in files:
            if file.endswith(".skops"):
                os.remove(os.path.join(folder, file))


def test_a_registered_version_that_cannot_be_loaded_is_one_line(mlflow_store):
    mlflow.set_tracking_uri(mlflow_store)
    mlflow.set_experiment("unloadable")
    version = register_churn_model("shop", DummyClassifier().fit([[1.0], [2.0]], [0, 1]), {})
    remove_model_files()
    with pytest.raises(ModelingError, match=f"cannot load shop v{version}: "):
        registry.load_registered("shop", version)


def test_an_as_of_without_a_snapshot_names_the_latest():
    with duckdb.connect() as con:
        con.execute("create schema marts; create table marts.customer_snapshots (as_of date)")
        with pytest.raises(ModelingError, match="is empty: nothing to score"):
            score.scoring_date(con, None, "as_of")
        con.execute("insert into marts.customer_snapshots values ('2025-01-01'), ('2025-02-01')")
        assert score.scoring_date(con, None, "as_of") == pd.Timestamp("2025-02-01")
        assert score.scoring_date(con, date(2025, 1, 1), "as_of") == pd.Timestamp("2025-01-01")
        message = r"no snapshot at --as-of 2025-03-01 \(the latest is 2025-02-01\)"
        with pytest.raises(ModelingError, match=message):
            score.scoring_date(con, date(2025, 3, 1), "as_of")


def test_a_champion_that_cannot_be_loaded_stays_champion(
    modeling_db, mlflow_store, tmp_path, capsys
):
    """Training registers its model as challenger and ends in one line: whether the
    champion is still good is not known, so the alias stays where it was."""
    db, manifest = modeling_db
    name = model_name(db)
    registry.use_tracking_store()
    mlflow.set_experiment(name)
    features = Manifest(manifest).features_sha256()
    weak = DummyClassifier().fit([[1.0], [2.0]], [0, 1])
    register_churn_model(name, weak, {registry.FEATURES_TAG: features}, alias="champion")
    remove_model_files()
    argv = ["--db", str(db), "--manifest", str(manifest), "--models", "logistic_regression"]
    code, lines = run("train", [*argv, "--report", str(tmp_path / "r.html")], capsys)
    assert code == 1
    assert lines[-1].startswith("error: champion v1 cannot be loaded or scored: ")
    assert lines[-1].endswith(
        f": kept it as champion of {name}, the new model is v2 @challenger"
        " (docs/modeling.md, 'Moving the champion by hand')"
    )
    client = MlflowClient()
    assert client.get_model_version_by_alias(name, "champion").version == 1
    assert client.get_model_version_by_alias(name, "challenger").version == 2


@pytest.mark.parametrize("content", ["[]", '{"nodes": 5}', "not json"])
def test_a_manifest_that_is_not_one_is_one_line(content, mlflow_store, tmp_path, capsys):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(content)
    code, lines = run("score", ["--manifest", str(manifest)], capsys)
    assert code == 1
    assert_one_line(lines, f"{manifest}")
    assert "is not a dbt manifest" in lines[0] or "is not valid JSON" in lines[0]
