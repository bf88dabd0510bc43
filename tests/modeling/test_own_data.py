"""A shop's own exports, end to end: load, `dbt build`, train, score. Once with
the example export (orders and web sessions), once with orders only."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from mlflow import MlflowClient

from featurestore.catalog import read_catalog
from loader.cli import main as load
from modeling import score
from modeling.train import parse_args, train
from tests.dbt_runner import run_dbt

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop_export"
CATALOG = read_catalog()


def catalog_features_of(*sources: str) -> set[str]:
    """The mart's measure totals computed from these event sources (from the catalog)."""
    return {
        c.name
        for c in CATALOG.columns
        if c.measure and CATALOG.measures[c.measure].source in sources
    }


# Features of sources neither export has: constant, so dropped before training.
ABSENT_EVERYWHERE = catalog_features_of("loyalty_events", "reviews", "support_tickets")
VISIT_FEATURES = catalog_features_of("site_visits")


@pytest.mark.parametrize(
    ("mapping", "visits"),
    [("mapping.yml", True), ("mapping_orders_only.yml", False)],
    ids=["orders-and-sessions", "orders-only"],
)
def test_an_export_builds_trains_and_scores(tmp_path, mlflow_store, mapping, visits):
    db = tmp_path / "warehouse.duckdb"
    assert load([str(EXAMPLE / mapping), "--db", str(db), "--quiet"]) == 0
    # No vars: the snapshot schedule follows the data's own span (2019-2021).
    run_dbt(["build"], db, tmp_path / "target")
    with duckdb.connect(str(db), read_only=True) as con:
        first, last, rows = con.execute(
            "select min(as_of), max(as_of), count(*) from marts.customer_snapshots"
        ).fetchone()
        assert first.year == 2019 and last.year == 2021 and rows > 1000
        reasons = dict(
            con.execute(
                "select reject_reason, count(*) from marts.quarantined_rows"
                " where source_table = 'orders' group by 1"
            ).fetchall()
        )
        # The example's broken rows: 3 dates, 2 statuses, 1 missing customer.
        assert reasons == {"missing_timestamp": 3, "unknown_category": 2, "missing_customer_id": 1}

    result = train(
        parse_args(
            [
                "--db",
                str(db),
                "--manifest",
                str(tmp_path / "target" / "manifest.json"),
                "--models",
                "logistic_regression",
                "xgboost",
                "--report",
                str(tmp_path / "report.html"),
            ]
        )
    )
    dropped = result["params"]["dropped_constant_features"].split(",")
    assert ABSENT_EVERYWHERE.issubset(dropped)
    assert all((feature in dropped) is not visits for feature in VISIT_FEATURES)
    assert result["metrics"]["xgboost"]["test_roc_auc"] > 0.6
    run = MlflowClient().get_run(result["run_id"])
    assert run.data.params["dropped_constant_features"] == ",".join(dropped)

    scored = score.score(
        score.parse_args(
            ["--db", str(db), "--manifest", str(tmp_path / "target" / "manifest.json")]
        )
    )
    with duckdb.connect(str(db), read_only=True) as con:
        risk = con.execute("select count(*) from marts.customer_risk").fetchone()[0]
    assert risk == scored["rows"] > 50
