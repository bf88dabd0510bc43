"""featurestore.parity finds what differs between two builds' marts, and only that.
Checked without Spark: the "Spark side" is the DuckDB build's marts written as
Spark lays tables out (Parquet folders, customer_snapshots partitioned by as_of),
then changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from featurestore.parity import MART_KEYS, RELATIVE_TOLERANCE, compare_marts


def write_like_spark(db: Path, folder: Path, change: str | None = None) -> Path:
    """The marts of `db` as a Spark warehouse's folders; `change` runs on a copy first."""
    shutil.rmtree(folder, ignore_errors=True)
    with duckdb.connect() as con:
        con.execute(f"attach '{db}' as source (read_only)")
        con.execute("create schema marts")
        for mart in MART_KEYS:
            con.execute(f"create table marts.{mart} as select * from source.marts.{mart}")
        if change:
            con.execute(change)
        for mart in MART_KEYS:
            target = folder / "marts.db" / mart
            target.mkdir(parents=True)
            partition = ", partition_by (as_of)" if mart == "customer_snapshots" else ""
            path = target if partition else target / "part-0.parquet"
            con.execute(f"copy marts.{mart} to '{path}' (format parquet{partition})")
    return folder


@pytest.fixture(scope="module")
def db(built_db) -> Path:
    return built_db[0]


def unequal(db: Path, folder: Path) -> dict[str, str]:
    return {p.mart: p.describe() for p in compare_marts(db, folder) if not p.equal}


def test_the_same_marts_are_equal(db, tmp_path):
    assert unequal(db, write_like_spark(db, tmp_path / "spark")) == {}


def test_a_double_within_the_tolerance_is_equal_and_beyond_it_is_named(db, tmp_path):
    within = (
        "update marts.customer_snapshots"
        f" set avg_order_value = avg_order_value * (1 + {RELATIVE_TOLERANCE / 10})"
    )
    assert unequal(db, write_like_spark(db, tmp_path / "a", within)) == {}
    beyond = (
        "update marts.customer_snapshots set avg_order_value = avg_order_value * 1.000001"
        " where customer_id = (select min(customer_id) from marts.customer_snapshots)"
    )
    found = unequal(db, write_like_spark(db, tmp_path / "b", beyond))
    assert list(found) == ["customer_snapshots"]
    assert (
        "avg_order_value: " in found["customer_snapshots"]
        and "rows differ" in found["customer_snapshots"]
    )


def test_an_integer_off_by_one_a_missing_row_and_a_changed_quarantine_are_named(db, tmp_path):
    change = """
        update marts.dim_customers set orders_lifetime = orders_lifetime + 1
        where customer_id = (select max(customer_id) from marts.dim_customers);
        delete from marts.churn_summary_monthly
        where as_of = (select min(as_of) from marts.churn_summary_monthly);
        update marts.quarantined_rows set reject_reason = 'missing_value'
        where row_id = (select max(row_id) from marts.quarantined_rows)
    """
    found = unequal(db, write_like_spark(db, tmp_path / "spark", change))
    assert set(found) == {"dim_customers", "churn_summary_monthly", "quarantined_rows"}
    assert "orders_lifetime: 1 rows differ" in found["dim_customers"]
    assert "only in DuckDB, 0 only in Spark" in found["churn_summary_monthly"]
    assert "1 rows only in DuckDB, 1 only in Spark" in found["quarantined_rows"]
