"""Where the warehouse lives and how it is written: one place, shared by the
generator, the export loader, the dbt profile (through the same environment
variable) and the modeling layer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.contract import RAW_SCHEMA, RAW_TABLES

DB_PATH_ENV_VAR = "CHURN_DB_PATH"
DEFAULT_DB_PATH = "data/warehouse.duckdb"


def resolve_db_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: an explicit path, else $CHURN_DB_PATH, else data/warehouse.duckdb."""
    return Path(path or os.environ.get(DB_PATH_ENV_VAR) or DEFAULT_DB_PATH)


def existing_raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of the raw schema that exist in this database, by name."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1",
        [RAW_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def create_table_sql(schema: str, table: str) -> str:
    """`CREATE TABLE` statement for one raw table of the contract."""
    columns = ", ".join(f'"{name}" {kind}' for name, kind in RAW_TABLES[table].items())
    return f"CREATE TABLE {schema}.{table} ({columns})"


class WarehouseError(Exception):
    """A problem with the warehouse file itself (cannot open or write it)."""


@contextmanager
def all_or_nothing(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection inside one transaction: committed if the block succeeds, else
    rolled back, and a database file this call created is removed. So a failed
    write leaves the warehouse exactly as it was."""
    created = not db_path.exists()
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(db_path))
    except (OSError, duckdb.Error) as exc:
        raise WarehouseError(f"cannot open database {db_path}: {str(exc).splitlines()[0]}") from exc
    try:
        con.execute("begin transaction")
        yield con
        con.execute("commit")
    except BaseException:
        con.close()  # closing without commit rolls the transaction back
        if created:
            for leftover in (db_path, db_path.with_name(db_path.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    con.close()
