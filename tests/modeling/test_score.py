"""Batch scoring back into DuckDB: idempotent, and readable through marts.customer_risk."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from modeling import demo_summary, score
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
    assert last.startswith("error: no registered model ecommerce-churn with alias @champion")
