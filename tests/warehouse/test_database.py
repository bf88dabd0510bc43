"""Where the warehouse lives, and writes that leave it as it was when they fail."""

from __future__ import annotations

import duckdb
import pytest

from warehouse.database import (
    DB_PATH_ENV_VAR,
    WarehouseError,
    all_or_nothing,
    create_table_sql,
    existing_raw_tables,
    resolve_db_path,
)


def test_db_path_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv(DB_PATH_ENV_VAR, raising=False)
    assert str(resolve_db_path()) == "data/warehouse.duckdb"
    monkeypatch.setenv(DB_PATH_ENV_VAR, str(tmp_path / "env.duckdb"))
    assert resolve_db_path() == tmp_path / "env.duckdb"
    assert resolve_db_path(tmp_path / "flag.duckdb") == tmp_path / "flag.duckdb"


def test_a_failed_write_removes_a_new_file_and_rolls_back_an_existing_one(tmp_path):
    new = tmp_path / "new.duckdb"
    with pytest.raises(RuntimeError), all_or_nothing(new) as con:
        con.execute("create schema raw")
        raise RuntimeError("half way")
    assert not new.exists()

    existing = tmp_path / "existing.duckdb"
    with all_or_nothing(existing) as con:
        con.execute("create schema raw")
        con.execute(create_table_sql("raw", "orders"))
    with pytest.raises(RuntimeError), all_or_nothing(existing) as con:
        con.execute(create_table_sql("raw", "customers"))
        raise RuntimeError("half way")
    with duckdb.connect(str(existing), read_only=True) as con:
        assert existing_raw_tables(con) == ["orders"]


def test_an_unopenable_file_is_a_warehouse_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with (
        pytest.raises(WarehouseError, match="cannot open database"),
        all_or_nothing(blocker / "w.duckdb"),
    ):
        pass
