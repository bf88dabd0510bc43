"""Incremental refresh equals a full rebuild (docs/incremental.md).

A generated shop is loaded batch by batch, as a shop's daily loads would land
it (with late arrivals, a duplicate export, quarantined rows and a history
backfill in the middle), with an incremental `dbt build` after each batch; the
marts then equal, row for row, those of one full build of the same raw data.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.conftest import make_warehouse, query
from tests.dbt_runner import run_dbt
from warehouse import published

RAW_TABLES = ["customers", "orders", "site_visits", "loyalty_events", "reviews", "support_tickets"]
MARTS = ["customer_snapshots", "dim_customers", "churn_summary_monthly", "quarantined_rows"]
LINEAGE = {"features_sha256", "build_id"}

# Daily loads at the end of the generated history (2024-01-01 .. 2026-01-01),
# crossing the month boundary of 2025-12-01 (a new monthly snapshot).
FIRST_DAY = "2025-11-29"
DAYS = ["2025-11-29", "2025-11-30", "2025-12-01", "2025-12-02"]


def append(db: Path, landed: Path, where: str) -> None:
    """Append the landed raw rows matching `where` (in their order), as a load would."""
    with duckdb.connect(str(db)) as con:
        con.execute(f"attach '{landed}' as landed (read_only)")
        for table in RAW_TABLES:
            con.execute(
                f"insert into raw.{table} select * from landed.raw.{table}"
                f" where {where} order by rowid"
            )


def refresh_line(result) -> str:
    return re.search(r"refresh: .*", result.stdout).group(0)


def differences(a: Path, b: Path, table: str) -> tuple[int, int, int]:
    """(rows, rows of a not in b, rows of b not in a), every column but lineage ids."""
    with duckdb.connect() as con:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        columns = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_catalog = 'a'"
                " and table_schema = 'marts' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            if r[0] not in LINEAGE
        ]
        cols = ", ".join(f'"{c}"' for c in columns)
        count = con.execute(f"select count(*) from a.marts.{table}").fetchone()[0]
        a_not_b, b_not_a = (
            con.execute(
                f"select count(*) from (select {cols} from {x}.marts.{table}"
                f" except all select {cols} from {y}.marts.{table})"
            ).fetchone()[0]
            for x, y in (("a", "b"), ("b", "a"))
        )
    return count, a_not_b, b_not_a


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("incremental") / "landed.duckdb"
    return make_warehouse(path, customers=600, seed=23, dirty_rate=0.03)


def test_daily_incremental_builds_equal_one_full_build(landed, tmp_path):
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"attach '{landed}' as landed (read_only)")
        con.execute("create schema raw")
        for table in RAW_TABLES:
            con.execute(f"create table raw.{table} as select * from landed.raw.{table} limit 0")
    target = tmp_path / "target"
    append(db, landed, f"_loaded_at is null or _loaded_at < timestamp '{FIRST_DAY}'")
    assert "full rebuild" in refresh_line(run_dbt(["build"], db, target))

    lines = []
    for day in DAYS:
        append(
            db,
            landed,
            f"_loaded_at >= timestamp '{day}' and _loaded_at < timestamp '{day}' + interval 1 day",
        )
        with duckdb.connect(str(db)) as con:
            if day == DAYS[0]:
                # A duplicate export: orders already loaded, sent again the next day.
                con.execute(
                    "insert into raw.orders select * replace (timestamp"
                    f" '{day} 06:00' as _loaded_at) from raw.orders"
                    f" where _loaded_at < timestamp '{FIRST_DAY}' order by hash(order_id) limit 40"
                )
                # Late arrivals and quarantined rows: orders from last month
                # loaded today, one of them with a negative value.
                con.execute(
                    "insert into raw.orders select 'late-' || order_id, customer_id,"
                    " ordered_at + interval 1 day, status, order_value, discount_amount,"
                    f" item_count, timestamp '{day} 07:00' from raw.orders"
                    " where ordered_at >= timestamp '2025-10-20' order by hash(order_id) limit 30"
                )
                con.execute(
                    "insert into raw.orders select 'bad-' || order_id, customer_id, ordered_at,"
                    f" status, -1, discount_amount, item_count, timestamp '{day} 08:00'"
                    " from raw.orders order by hash(order_id) limit 5"
                )
            if day == DAYS[1]:
                # A history backfill: orders of last spring, stamped back then.
                con.execute(
                    "insert into raw.orders select 'backfill-' || order_id, customer_id,"
                    " ordered_at - interval 3 day, status, order_value, discount_amount,"
                    " item_count, timestamp '2025-04-20 12:00' from raw.orders"
                    " where ordered_at between timestamp '2025-04-01' and timestamp '2025-04-15'"
                    " order by hash(order_id) limit 25"
                )
        lines.append(refresh_line(run_dbt(["build"], db, target)))
    assert all(line.startswith("refresh: incremental") for line in lines), lines
    assert "rebuild" in lines[1] and "2025-04-20" in lines[1], lines[1]
    # The last refresh computed only the new current snapshot and kept the others.
    assert (
        query(db, "select count(distinct as_of) from intermediate.int_snapshots_to_build")[0][0]
        == 1
    )
    assert query(db, "select count(distinct as_of) from marts.customer_snapshots")[0][0] >= 20
    # Its data tests on the validated models checked the new rows only ...
    compiled = (target / "run").rglob("unique_int_orders_validated_order_id*.sql")
    assert "raw_rowid > " in next(compiled).read_text()
    # ... and its publish linked the snapshots it kept instead of writing them again.
    with published.connect(db) as con:
        files = published.current_version(con).files
    snapshot_files = [Path(f) for f in files if "marts.customer_snapshots" in f]
    linked = [f for f in snapshot_files if f.stat().st_nlink > 1]
    assert 0 < len(linked) < len(snapshot_files)

    # One full build of the same raw rows, in the same order.
    full = tmp_path / "full.duckdb"
    with duckdb.connect(str(full)) as con:
        con.execute(f"attach '{db}' as incremental (read_only)")
        con.execute("create schema raw")
        for table in RAW_TABLES:
            con.execute(
                f"create table raw.{table} as select * from incremental.raw.{table} order by rowid"
            )
    run_dbt(["build"], full, tmp_path / "target_full")

    for table in MARTS:
        count, a_not_b, b_not_a = differences(db, full, table)
        assert count > 0 or table == "quarantined_rows"
        assert (a_not_b, b_not_a) == (0, 0), f"marts.{table}: {a_not_b} / {b_not_a} rows differ"
        # What readers see: the published version equals the full build too.
        published_count, a_not_b, b_not_a = differences(published.catalog_path(db), full, table)
        assert published_count == count
        assert (a_not_b, b_not_a) == (0, 0), f"published {table}: {a_not_b} / {b_not_a} differ"
