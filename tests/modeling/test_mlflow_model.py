"""The registered model the MLflow way: `models:/<name>@champion` loads in a clean
process with only its declared requirements and gives churn probabilities for rows
straight from the mart; `mlflow models serve` answers with them; `mlflow.models.evaluate`
runs on the test snapshot; each warehouse keeps its own champion and scoring refuses
another's."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.metrics import average_precision_score, roc_auc_score

from modeling import registry, score
from modeling.churn_pyfunc import PREDICTED, PROBABILITY
from modeling.evaluation import mlflow_metrics
from modeling.lineage import warehouse_identity
from modeling.train import parse_args, train
from tests.dbt_runner import copy_warehouse
from warehouse import published
from warehouse.database import all_or_nothing

LABEL = "churned"
# Loads a model with the project hidden (its folder and its editable-install finder
# gone from the import system) and prints its predictions for mart rows as JSON.
CLEAN_LOAD = """
import importlib.util, json, sys
project = sys.argv[1]
sys.path[:] = [p for p in sys.path if p not in ("", ".", project)]
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
assert importlib.util.find_spec("modeling") is None, "the project is still importable"
import duckdb, mlflow
rows = duckdb.connect(sys.argv[3], read_only=True).sql(sys.argv[4]).df()
predictions = mlflow.pyfunc.load_model(sys.argv[2]).predict(rows)
print(json.dumps({"dtypes": sorted({str(t) for t in rows.dtypes}),
                  "predictions": predictions.to_dict(orient="list")}))
"""


@pytest.fixture(scope="module")
def shop(modeling_db, tmp_path_factory):
    """A warehouse with a trained champion in its own store: (db, manifest, name, store)."""
    source, manifest = modeling_db
    root = tmp_path_factory.mktemp("mlflow_model")
    db = copy_warehouse(source, root / "warehouse.duckdb")
    store = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", store)
        patch.chdir(root)
        args = ["--db", str(db), "--manifest", str(manifest), "--report", str(root / "r.html")]
        train(parse_args([*args, "--models", "logistic_regression"]))
    return db, manifest, warehouse_identity(db).model_name, store


@pytest.fixture
def in_shop(shop, monkeypatch):
    db, _, _, store = shop
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.chdir(db.parent)
    registry.use_tracking_store()
    return shop


def mart_rows(db: Path, where: str) -> tuple[str, pd.DataFrame]:
    """Every column of the published snapshot rows, as a reader gets them."""
    sql = f"select * from marts.customer_snapshots where {where} order by customer_id"
    with published.connect(db) as con:
        return sql, con.execute(sql).df()


def project_probabilities(name: str, rows: pd.DataFrame) -> np.ndarray:
    """The champion's probabilities as the project computes them (scoring's loader)."""
    return registry.load_registered(name, None).model.churn_probability(rows)


def test_the_champion_loads_in_a_clean_process_and_predicts_mart_rows(in_shop):
    db, _, name, store = in_shop
    sql, rows = mart_rows(db, "as_of = (select max(as_of) from marts.customer_snapshots)")
    sql += " limit 50"
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": store,
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false",
    }
    env.pop("PYTHONPATH", None)
    project = str(Path(__file__).parents[2])
    done = subprocess.run(
        [sys.executable, "-c", CLEAN_LOAD, project, f"models:/{name}@champion"]
        + [str(published.catalog_path(db)), sql],
        capture_output=True,
        text=True,
        env=env,
        cwd=db.parent,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    # Rows straight from the mart: integers (nullable ones too), booleans, strings, dates.
    assert {"int64", "bool", "str"} <= set(answer["dtypes"])
    proba = np.array(answer["predictions"][PROBABILITY])
    assert len(proba) == 50 and ((proba > 0) & (proba < 1)).all() and len(set(proba)) > 10
    np.testing.assert_allclose(proba, project_probabilities(name, rows.head(50)), rtol=1e-9)
    assert set(answer["predictions"][PREDICTED]) <= {0, 1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def test_mlflow_models_serve_answers_with_probabilities(in_shop):
    db, _, name, store = in_shop
    _, rows = mart_rows(db, "as_of = (select max(as_of) from marts.customer_snapshots)")
    rows = rows.head(20)
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": store}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # uvicorn
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", f"models:/{name}@champion"]
        + ["--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=db.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start in 180 s"
                time.sleep(0.5)
        # The rows as JSON, every column (dates as ISO strings, nulls as null).
        split = json.loads(rows.to_json(orient="split", date_format="iso", index=False))
        answer = post(f"http://127.0.0.1:{port}/invocations", {"dataframe_split": split})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    served = np.array([p[PROBABILITY] for p in answer["predictions"]])
    np.testing.assert_allclose(served, project_probabilities(name, rows), rtol=1e-9)


def test_mlflow_evaluate_runs_on_the_test_snapshot_without_casting(in_shop):
    db, _, name, _ = in_shop
    client = MlflowClient()
    champion = client.get_model_version_by_alias(name, "champion")
    test_as_of = champion.tags["test_as_of"]
    _, rows = mart_rows(db, f"as_of = date '{test_as_of}'")
    mlflow.set_experiment(name)
    with mlflow.start_run():
        result = mlflow.models.evaluate(
            f"models:/{name}@champion",
            data=rows,
            targets=LABEL,
            predictions=PROBABILITY,
            extra_metrics=mlflow_metrics(),
        )
    # The figures the project computes from the same model and rows.
    proba = project_probabilities(name, rows)
    assert result.metrics["roc_auc/value"] == pytest.approx(roc_auc_score(rows[LABEL], proba))
    assert result.metrics["pr_auc/value"] == pytest.approx(
        average_precision_score(rows[LABEL], proba)
    )


def another_shop(db: Path, path: Path) -> Path:
    """A second warehouse: the same data under another identity (as if generated anew)."""
    other = copy_warehouse(db, path)
    with all_or_nothing(other) as con:
        con.execute("update meta.warehouse_identity set warehouse_id = cast(uuid() as varchar)")
        published.republish(other, con, ["meta.warehouse_identity"])
    return other


def test_two_warehouses_keep_their_own_champions_and_scoring_refuses_the_wrong_one(
    in_shop, tmp_path, capsys
):
    db, manifest, name, _ = in_shop
    other = another_shop(db, tmp_path / "other.duckdb")
    other_name = warehouse_identity(other).model_name
    assert other_name != name
    args = ["--manifest", str(manifest), "--models", "logistic_regression"]
    train(parse_args(["--db", str(other), *args, "--report", str(tmp_path / "r.html")]))
    client = MlflowClient()
    assert client.get_model_version_by_alias(other_name, "champion").version == 1
    champion = client.get_model_version_by_alias(name, "champion")
    assert champion.tags[registry.WAREHOUSE_TAG] == warehouse_identity(db).id

    scoring = ["--db", str(db), "--manifest", str(manifest)]
    with pytest.raises(SystemExit) as exited:
        score.main([*scoring, "--registered-model", other_name])
    assert exited.value.code == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == (
        f"error: {other_name} v1 was trained on warehouse {warehouse_identity(other).id}, not"
        f" this one ({warehouse_identity(db).id}): score with this warehouse's model"
        f" (--registered-model {name}) or train one"
    )
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from scoring.churn_scores").fetchone() == (0,)
    assert score.score(score.parse_args(scoring))["version"] == str(champion.version)


def test_scoring_refuses_a_model_of_other_features(in_shop, capsys):
    db, manifest, name, _ = in_shop
    client = MlflowClient()
    version = client.get_model_version_by_alias(name, "champion").version
    features = client.get_model_version(name, version).tags[registry.FEATURES_TAG]
    client.set_model_version_tag(name, version, registry.FEATURES_TAG, "0" * 64)
    try:
        with pytest.raises(SystemExit):
            score.main(["--db", str(db), "--manifest", str(manifest)])
    finally:
        client.set_model_version_tag(name, version, registry.FEATURES_TAG, features)
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: {name} v{version} was trained on features {'0' * 12}, the snapshot was built"
        f" by features {features[:12]}: train a model on this build (python -m modeling.train)"
    )
