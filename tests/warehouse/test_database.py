"""Where the warehouse lives, and writes that leave it as it was when they fail."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import duckdb
import pytest
import yaml

from seeds_gen.generate import GENERATOR_SCHEMA, TRUTH_SCHEMA
from tests.seeds_gen.processes import held_open
from warehouse.contract import DBT_PROJECT_FILE, RAW_SCHEMA, REPO_ROOT
from warehouse.database import (
    DB_PATH_ENV_VAR,
    INTERRUPTED,
    WAREHOUSE_SCHEMAS,
    WarehouseError,
    WarehousePathError,
    all_or_nothing,
    catalog_name,
    create_table_sql,
    existing_raw_tables,
    partial_path,
    quote_identifier,
    quote_literal,
    resolve_db_path,
)

SCORING_SOURCES = REPO_ROOT / "dbt_project/models/marts/_scoring__sources.yml"


def test_db_path_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv(DB_PATH_ENV_VAR, raising=False)
    assert str(resolve_db_path()) == "data/warehouse.duckdb"
    monkeypatch.setenv(DB_PATH_ENV_VAR, str(tmp_path / "env.duckdb"))
    assert resolve_db_path() == tmp_path / "env.duckdb"
    assert resolve_db_path(tmp_path / "flag.duckdb") == tmp_path / "flag.duckdb"


@pytest.mark.parametrize(
    "name",
    ["raw.duckdb", "MARTS.duckdb", "staging.db", "truth", "scoring.v2.duckdb", "main.duckdb"],
)
def test_a_file_named_like_a_schema_or_duckdb_catalog_is_refused(tmp_path, monkeypatch, name):
    monkeypatch.setenv(DB_PATH_ENV_VAR, str(tmp_path / name))
    with pytest.raises(WarehousePathError, match="name the file differently") as refused:
        resolve_db_path()
    assert str(refused.value).startswith(f"${DB_PATH_ENV_VAR} {tmp_path / name}: ")
    with pytest.raises(WarehousePathError, match=f"^--db {tmp_path / name}: "):
        resolve_db_path(tmp_path / name)


def test_other_names_and_a_folder(tmp_path):
    for name in ("raw_data.duckdb", "my.raw.duckdb", "warehouse"):
        assert resolve_db_path(tmp_path / name) == tmp_path / name
    with pytest.raises(WarehousePathError, match="is a folder: give a file path"):
        resolve_db_path(tmp_path)


def test_the_catalog_name_is_the_one_duckdb_gives(tmp_path):
    for name in ("warehouse.duckdb", "my.raw.duckdb", ".hidden.v2.duckdb", "x y.db"):
        with duckdb.connect(str(tmp_path / name)) as con:
            assert con.execute("select current_database()").fetchone()[0] == catalog_name(
                tmp_path / name
            )


def test_the_reserved_names_cover_every_schema_of_the_warehouse():
    from loader.load import LOADER_SCHEMA

    dbt_models = yaml.safe_load(DBT_PROJECT_FILE.read_text())["models"]["churn"]
    dbt_schemas = {
        v["+schema"] for v in dbt_models.values() if isinstance(v, dict) and "+schema" in v
    }
    sources = yaml.safe_load(SCORING_SOURCES.read_text())["sources"]
    schemas = dbt_schemas | {s["schema"] for s in sources} | {RAW_SCHEMA, LOADER_SCHEMA}
    assert schemas | {GENERATOR_SCHEMA, TRUTH_SCHEMA} <= set(WAREHOUSE_SCHEMAS)


def test_quoting_keeps_any_text_as_it_is():
    text = 'it\'s "quoted"; drop table x; --'
    with duckdb.connect() as con:
        assert con.execute(f"select {quote_literal(text)}").fetchone()[0] == text
        con.execute(f"create table {quote_identifier(text)} (i int)")
        assert con.execute("select table_name from duckdb_tables()").fetchone()[0] == text


def test_a_new_warehouse_appears_only_when_complete(tmp_path):
    db = tmp_path / "new.duckdb"
    with all_or_nothing(db) as con:
        con.execute("create schema raw")
        assert not db.exists() and partial_path(db).exists()
    assert os.listdir(tmp_path) == ["new.duckdb"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select current_database()").fetchone()[0] == "new"


def test_a_failed_write_removes_a_new_file_and_rolls_back_an_existing_one(tmp_path):
    new = tmp_path / "data" / "nested" / "new.duckdb"
    with pytest.raises(RuntimeError), all_or_nothing(new) as con:
        con.execute("create schema raw")
        raise RuntimeError("half way")
    assert os.listdir(tmp_path) == []  # the folders it created are gone too

    existing = tmp_path / "existing.duckdb"
    with all_or_nothing(existing) as con:
        con.execute("create schema raw")
        con.execute(create_table_sql("raw", "orders"))
    with pytest.raises(RuntimeError), all_or_nothing(existing) as con:
        con.execute(create_table_sql("raw", "customers"))
        raise RuntimeError("half way")
    with duckdb.connect(str(existing), read_only=True) as con:
        assert existing_raw_tables(con) == ["orders"]


def test_sigterm_during_a_write_undoes_it_and_exits_143(tmp_path, capsys):
    previous = signal.getsignal(signal.SIGTERM)
    db = tmp_path / "new.duckdb"
    with pytest.raises(SystemExit) as exited, all_or_nothing(db) as con:
        con.execute("create schema raw")
        os.kill(os.getpid(), signal.SIGTERM)
        con.execute(create_table_sql("raw", "orders"))  # not reached
    assert exited.value.code == 143
    assert capsys.readouterr().err.strip().splitlines() == [INTERRUPTED]
    assert os.listdir(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) is previous


def test_partials_of_dead_processes_are_removed_by_the_next_write(tmp_path):
    db = tmp_path / "w.duckdb"
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = partial_path(db, int(finished.stdout))
    stale = (dead, dead.with_name(dead.name + ".wal"), partial_path(db))  # the last: pid reused
    for leftover in (*stale, partial_path(db, os.getppid())):
        leftover.write_bytes(b"half")
    with all_or_nothing(db) as con:
        con.execute("create schema raw")
    assert sorted(os.listdir(tmp_path)) == sorted([partial_path(db, os.getppid()).name, db.name])


def test_a_file_that_is_not_a_duckdb_database_is_refused_untouched(tmp_path):
    export = tmp_path / "orders.csv"  # DuckDB would open it as an empty in-memory database
    export.write_text("order_id,customer_id\n1,2\n")
    with pytest.raises(WarehouseError, match="it is not a DuckDB database"), all_or_nothing(export):
        pass
    assert export.read_text() == "order_id,customer_id\n1,2\n"


def test_a_file_another_process_writes_is_refused(tmp_path):
    db = tmp_path / "w.duckdb"
    with all_or_nothing(db) as con:
        con.execute("create schema raw")
    with held_open(db) as holder:
        message = f"process {holder.pid} has it open for writing"
        with pytest.raises(WarehouseError, match=message), all_or_nothing(db):
            pass


def test_an_unopenable_file_is_a_warehouse_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with (
        pytest.raises(WarehouseError, match=f"cannot open database .*: {blocker} is a file"),
        all_or_nothing(blocker / "w.duckdb"),
    ):
        pass
