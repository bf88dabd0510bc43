"""Batch scoring back into DuckDB: idempotent, and readable through marts.customer_risk."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.dummy import DummyClassifier

from modeling import demo_summary, score
from modeling.churn_pyfunc import ChurnModel
from modeling.errors import ModelingError
from modeling.evaluation import CampaignEconomics
from modeling.lineage import warehouse_identity
from modeling.manifest import FeatureSpec, Manifest, TableSpec
from modeling.score import check_one_build
from modeling.train import parse_args, train
from tests.dbt_runner import copy_warehouse

ANALYSES = Path(__file__).parents[2] / "dbt_project" / "analyses"


def latest_population(db) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select count(*) from marts.customer_snapshots "
            "where as_of = (select max(as_of) from marts.customer_snapshots)"
        ).fetchone()[0]


def test_scoring_twice_replaces_rows_and_feeds_customer_risk(modeling_db, mlflow_store, tmp_path):
    source, manifest = modeling_db
    db = copy_warehouse(source, tmp_path / "warehouse.duckdb")
    args = ["--db", str(db), "--manifest", str(manifest), "--models", "logistic_regression"]
    train(parse_args([*args, "--report", str(tmp_path / "r.html")]))

    scoring = ["--db", str(db), "--manifest", str(manifest)]
    first = score.score(score.parse_args(scoring))
    second = score.score(score.parse_args([*scoring, "--model-version", "1"]))
    assert first["rows"] == second["rows"] == latest_population(db) > 100
    with duckdb.connect(str(db), read_only=True) as con:
        rows, customers, deciles, bad_actions = con.execute(
            """
            select count(*), count(distinct customer_id), count(distinct risk_decile),
                   count(*) filter (
                       where (expected_value_of_contact > 0) != (recommended_action = 'contact')
                   )
            from scoring.churn_scores
            """
        ).fetchone()
        assert rows == customers == first["rows"]
        assert deciles == 10 and bad_actions == 0
        risk = con.execute(
            "select count(*), avg(churn_probability) filter (where risk_decile = 1)"
            " > avg(churn_probability) filter (where risk_decile = 10) from marts.customer_risk"
        ).fetchone()
        assert risk == (rows, True)
        # The README's analyst query on the scores, kept as a dbt analysis.
        analysis = ANALYSES / "riskiest_high_value_customers.sql"
        sql = re.sub(r"\{\{ ref\('(\w+)'\) \}\}", r"marts.\1", analysis.read_text())
        top = con.execute(sql).fetchall()
        assert len(top) == 20
        assert [r[-2] for r in top] == sorted((r[-2] for r in top), reverse=True)
    listing = demo_summary.summary(db, tmp_path / "r.html", tmp_path / "mlflow.db")
    assert "marts.customer_risk" in listing and "scoring.churn_scores" in listing
    assert f"open {tmp_path / 'r.html'}" in listing


def test_scoring_without_a_champion_fails_in_one_line(modeling_db, mlflow_store, capsys):
    db, manifest = modeling_db
    with pytest.raises(SystemExit) as exited:
        score.main(["--db", str(db), "--manifest", str(manifest)])
    assert exited.value.code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    name = warehouse_identity(db).model_name
    assert last.startswith(f"error: no registered model {name} with alias @champion")


# Steps of scoring on hand-made inputs: no dbt build.

SCORES_YAML = (
    Path(__file__).parents[2] / "dbt_project" / "models" / "marts" / "_scoring__sources.yml"
)
SPEC = FeatureSpec("customer_id", "as_of", "churned", numeric=("revenue_180d",), categorical=())


def declared_scores_table() -> TableSpec:
    """The scores table as dbt_project/models/marts/_scoring__sources.yml declares it."""
    (source,) = [
        s for s in yaml.safe_load(SCORES_YAML.read_text())["sources"] if s["name"] == "scoring"
    ]
    (table,) = [t for t in source["tables"] if t["name"] == "churn_scores"]
    return TableSpec(source["schema"], table["name"], tuple(c["name"] for c in table["columns"]))


def test_the_scores_frame_has_exactly_the_declared_columns():
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(20)],
            "as_of": pd.Timestamp("2026-01-01"),
            "revenue_180d": np.linspace(0.0, 950.0, 20),
        }
    )
    model = ChurnModel()
    model.estimator = DummyClassifier(strategy="prior").fit(frame[["revenue_180d"]], [0, 1] * 10)
    model.numeric, model.categorical, model.threshold = ["revenue_180d"], [], 0.5
    economics = CampaignEconomics()
    scored = score.score_frame(
        model, frame, economics, SPEC, "churn-shop-1", "3", datetime(2026, 1, 2)
    )
    table = declared_scores_table()
    scores = score.conform(score.add_risk_decile(scored), table)
    assert tuple(scores.columns) == table.columns
    assert (scores["model_version"] == "3").all() and (scores["churn_probability"] == 0.5).all()
    assert (scores["recommended_action"] == "contact").sum() == (
        scores["expected_value_of_contact"] > 0
    ).sum()


def test_risk_deciles_are_even_and_decile_1_is_the_riskiest():
    scores = score.add_risk_decile(pd.DataFrame({"churn_probability": np.linspace(0, 1, 20)}))
    assert scores["risk_decile"].value_counts().to_dict() == {d: 2 for d in range(1, 11)}
    assert scores.loc[scores["churn_probability"].idxmax(), "risk_decile"] == 1


def test_scores_that_do_not_match_the_declared_table_are_refused():
    table = TableSpec("scoring", "churn_scores", ("customer_id", "as_of", "churn_probability"))
    frame = pd.DataFrame({"as_of": [1], "customer_id": ["C1"], "churn_probability": [0.5]})
    assert tuple(score.conform(frame, table).columns) == table.columns  # declared order
    with pytest.raises(ModelingError, match="missing: churn_probability; undeclared: risk"):
        score.conform(frame.rename(columns={"churn_probability": "risk"}), table)


def test_the_scores_table_is_read_from_the_manifest_sources(tmp_path):
    columns = {name: {"name": name, "data_type": "varchar"} for name in ("customer_id", "as_of")}
    node = {"source_name": "scoring", "name": "churn_scores", "schema": "scoring"}
    node |= {"identifier": "churn_scores", "columns": columns}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": {}, "sources": {"source.x.scoring.churn_scores": node}}))
    table = Manifest(path).source_table("scoring", "churn_scores")
    assert table == TableSpec("scoring", "churn_scores", ("customer_id", "as_of"))
    assert table.relation == "scoring.churn_scores"
    with pytest.raises(ModelingError, match="has no source scoring.other"):
        Manifest(path).source_table("scoring", "other")


def test_scoring_refuses_rows_of_more_than_one_build():
    """A published version is one build by construction; rows of two builds or two
    feature definitions at the scored as_of are refused, not scored."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.customer_snapshots as select * from (values"
        " (date '2026-01-01', 'b1', 'f1'), (date '2026-01-01', 'b1', 'f1'),"
        " (date '2026-02-01', 'b1', 'f1'), (date '2026-02-01', 'b2', 'f1'),"
        " (date '2026-03-01', 'b1', 'f1'), (date '2026-03-01', 'b1', 'f2'))"
        " as t(as_of, build_id, features_sha256)"
    )
    spec = SimpleNamespace(time_column="as_of")
    assert check_one_build(con, pd.Timestamp("2026-01-01"), spec) == "f1"
    for as_of, message in [
        ("2026-02-01", "2 builds and 1 feature"),
        ("2026-03-01", "1 builds and 2"),
    ]:
        with pytest.raises(ModelingError, match=message):
            check_one_build(con, pd.Timestamp(as_of), spec)
