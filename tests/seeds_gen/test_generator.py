"""The generator's contract: schema, determinism, dirty rows, truth, bad input."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest

from seeds_gen import generate as generate_module
from seeds_gen.cli import main
from seeds_gen.defects import TABLE_DEFECTS
from seeds_gen.generate import GeneratorError
from tests.conftest import make_warehouse, query
from warehouse.contract import EVENT_TIME_COLUMN, ID_COLUMN, RAW_TABLES


def table_digest(path: Path) -> dict[str, str]:
    """Digest of every table outside the catalog, content ordered canonically."""
    digests = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            rows = con.execute(f"select * from {schema}.{table} order by all").fetchall()
            digests[f"{schema}.{table}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def test_same_arguments_give_identical_tables(tmp_path):
    args = {"customers": 1500, "seed": 11, "dirty_rate": 0.05, "truth": True}
    first = table_digest(make_warehouse(tmp_path / "a.duckdb", **args))
    second = table_digest(make_warehouse(tmp_path / "b.duckdb", **args))
    other_seed = table_digest(make_warehouse(tmp_path / "c.duckdb", **{**args, "seed": 12}))
    assert first == second
    assert first["raw.orders"] != other_seed["raw.orders"]


def test_raw_tables_follow_the_contract(behaviour_db):
    columns = query(
        behaviour_db,
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_schema = 'raw' order by table_name, ordinal_position",
    )
    actual: dict[str, dict[str, str]] = {}
    for table, column, kind in columns:
        actual.setdefault(table, {})[column] = kind
    assert actual == RAW_TABLES
    for table, id_column in ID_COLUMN.items():
        n, distinct, null_loaded, early = query(
            behaviour_db,
            f"select count(*), count(distinct {id_column}), count(*) - count(_loaded_at),"
            f" count(*) filter ({EVENT_TIME_COLUMN[table]} >= _loaded_at) from raw.{table}",
        )[0]
        assert n > 0 and distinct == n, f"{table}: ids must be unique in clean data"
        assert null_loaded == 0, f"{table}: every row carries _loaded_at"
        assert early == 0, f"{table}: clean rows are loaded after they happen"


def test_truth_lives_outside_raw(behaviour_db, dirty_db, tmp_path):
    schemas = {
        r[0] for r in query(behaviour_db, "select schema_name from information_schema.schemata")
    }
    assert {"raw", "truth", "generator"} <= schemas
    raw_columns = {
        r[0]
        for r in query(
            behaviour_db,
            "select column_name from information_schema.columns where table_schema = 'raw'",
        )
    }
    assert not raw_columns & {"churn_at", "p_no_completed_order", "satisfaction"}
    lo, hi, as_of = query(
        behaviour_db,
        "select min(p_no_completed_order), max(p_no_completed_order), min(as_of)"
        " from truth.churn_probability",
    )[0]
    assert lo >= 0.0 and hi <= 1.0
    assert str(as_of) == "2025-10-01"  # last monthly snapshot with a complete 90-day window
    plain = make_warehouse(tmp_path / "plain.duckdb", customers=500)
    schemas = {r[0] for r in query(plain, "select schema_name from information_schema.schemata")}
    assert "truth" not in schemas


def test_dirty_rate_injects_each_defect_and_records_it(dirty_db):
    recorded = query(
        dirty_db,
        "select table_name, defect, count(*) from generator.injected_defects group by all",
    )
    by_table: dict[str, set[str]] = {}
    for table, defect, _ in recorded:
        by_table.setdefault(table, set()).add(defect)
    assert by_table == {t: set(d) for t, d in TABLE_DEFECTS.items()}
    for table in RAW_TABLES:
        total, bad = query(
            dirty_db,
            f"select (select count(*) from raw.{table}),"
            " (select count(*) from generator.injected_defects where table_name = ?)",
            [table],
        )[0]
        assert 0.04 < bad / total < 0.06, f"{table}: about 5% bad rows"


@pytest.mark.parametrize(
    ("defect", "predicate"),
    [
        ("missing_customer_id", "o.customer_id is null"),
        (
            "unknown_customer_id",
            "o.customer_id not in"
            " (select customer_id from raw.customers where customer_id is not null)",
        ),
        ("missing_timestamp", "o.ordered_at is null"),
        ("future_timestamp", "o.ordered_at > o._loaded_at"),
        (
            "event_before_signup",
            "o.ordered_at <"
            " (select min(signup_at) from raw.customers c where c.customer_id = o.customer_id)",
        ),
        ("unknown_category", "o.status not in ('completed', 'cancelled', 'returned')"),
        ("negative_value", "o.order_value < 0"),
        ("absurd_value", "o.order_value > 1e6"),
        ("late_arrival", "o._loaded_at > o.ordered_at + interval 10 day"),
        ("non_finite_value", "not isfinite(o.order_value)"),
        ("timestamp_out_of_range", "o.ordered_at = timestamp '1900-01-01'"),
        ("invalid_id", "length(o.customer_id) = 300 and o.customer_id like 'C%'"),
    ],
)
def test_injected_order_defects_have_the_recorded_property(dirty_db, defect, predicate):
    ids = query(
        dirty_db,
        "select row_id from generator.injected_defects where table_name = 'orders' and defect = ?",
        [defect],
    )
    assert ids
    failing = query(
        dirty_db,
        "select count(*) from raw.orders o where o.order_id in (select row_id"
        " from generator.injected_defects where table_name = 'orders' and defect = ?)"
        f" and not coalesce({predicate}, false)",
        [defect],
    )[0][0]
    assert failing == 0


def test_rows_without_an_id_are_recorded_without_one(dirty_db):
    for table, id_column in ID_COLUMN.items():
        defect = "missing_customer_id" if table == "customers" else "missing_event_id"
        nulls, recorded = query(
            dirty_db,
            f"select (select count(*) from raw.{table} where {id_column} is null),"
            " (select count(*) from generator.injected_defects"
            " where table_name = ? and defect = ? and row_id is null)",
            [table, defect],
        )[0]
        assert nulls == recorded > 0, table


def test_over_long_customer_ids_are_distinct(dirty_db):
    lengths = query(
        dirty_db,
        "select length(customer_id), count(*), count(distinct customer_id) from raw.customers"
        " where customer_id in (select row_id from generator.injected_defects"
        " where defect = 'invalid_id') group by 1",
    )
    assert len(lengths) == 1 and lengths[0][0] == 300 and lengths[0][1] == lengths[0][2] > 0


def test_duplicates_repeat_an_existing_event(dirty_db):
    counts = query(
        dirty_db,
        "select count(*), min(n), max(n) from (select count(*) as n from raw.site_visits"
        " where visit_id in (select row_id from generator.injected_defects"
        " where table_name = 'site_visits' and defect = 'duplicate') group by visit_id)",
    )[0]
    assert counts[0] > 0 and counts[1] >= 2


def test_parquet_export_to_a_folder_with_a_quote_in_its_name(tmp_path):
    folder = tmp_path / "it's exports"
    args = ["--customers", "300", "--db", str(tmp_path / "w.duckdb"), "--quiet"]
    assert main([*args, "--parquet", str(folder)]) == 0
    assert sorted(os.listdir(folder)) == sorted(f"{table}.parquet" for table in RAW_TABLES)
    for table in RAW_TABLES:
        parquet = folder / f"{table}.parquet"
        n = duckdb.connect().execute("select count(*) from read_parquet(?)", [str(parquet)])
        expected = query(tmp_path / "w.duckdb", f"select count(*) from raw.{table}")[0][0]
        assert n.fetchone()[0] == expected


def test_unwritable_path_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    assert main(["--customers", "10", "--db", str(blocker / "w.duckdb")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    db = blocker / "w.duckdb"
    assert err == [f"error: cannot open database {db}: {blocker} is a file, not a folder"]


def test_existing_raw_tables_need_overwrite(tmp_path, capsys):
    db = make_warehouse(tmp_path / "w.duckdb", customers=200)
    before = table_digest(db)
    assert main(["--customers", "300", "--db", str(db)]) == 1
    assert "already holds raw tables" in capsys.readouterr().err
    assert table_digest(db) == before
    assert main(["--customers", "300", "--db", str(db), "--overwrite", "--quiet"]) == 0
    assert query(db, "select count(*) from raw.customers")[0][0] == 300


def test_a_failed_run_leaves_no_half_written_database(tmp_path, monkeypatch):
    existing = make_warehouse(tmp_path / "old.duckdb", customers=200)
    before = table_digest(existing)
    calls = {"n": 0}
    real_load = generate_module._load_chunk

    def failing_load(con, chunk):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # e.g. Ctrl-C half way
        real_load(con, chunk)

    monkeypatch.setattr(generate_module, "_load_chunk", failing_load)
    many_chunks = generate_module.CHUNK_CUSTOMERS + 10
    cfg = generate_module.GenerationConfig(customers=many_chunks)
    with pytest.raises(KeyboardInterrupt):
        generate_module.generate(cfg, existing, overwrite=True, progress=False)
    assert table_digest(existing) == before
    fresh = tmp_path / "new.duckdb"
    calls["n"] = 0
    with pytest.raises(KeyboardInterrupt):
        generate_module.generate(cfg, fresh, progress=False)
    assert os.listdir(tmp_path) == ["old.duckdb"]  # neither the file nor its partial


def test_config_validation_names_the_problem():
    with pytest.raises(GeneratorError, match="--truth-as-of"):
        generate_module.GenerationConfig(truth_as_of=(generate_module.date(2030, 1, 1),)).validate()
