"""Land a shop's own CSV or Parquet exports in the warehouse's raw tables.

The mapping file says which file feeds which raw table and how its columns,
timestamps, currencies and category values map to the raw contract (see
loader.mapping). Orders are required; every other source is optional and
an absent one becomes an empty table. Without a customers export, customers
are derived from the orders (first order = sign-up).

Loading is idempotent: a file already loaded (same content, same mapping
settings) is skipped, and rows whose event id is already in the warehouse are
not added again, so a later export that overlaps an earlier one appends only
what is new. A file loaded before with other mapping settings is refused: its
rows stay as they were loaded (raw tables are append-only). Bad rows are not an
error: they land as they are and the feature store quarantines them with a
reason; the loader counts them (loader.notes). A bad file or mapping is an
error, and then the warehouse is left untouched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from loader import notes
from loader.columns import file_column, file_type, source_expression, typed_expression
from loader.export import LoadError, read_export
from loader.mapping import MUTABLE_COLUMNS, Mapping, SourceMapping
from loader.sql import literal
from warehouse.contract import (
    EVENT_TIME_COLUMN,
    ID_COLUMN,
    LOADED_AT_COLUMN,
    RAW_SCHEMA,
    RAW_TABLES,
)
from warehouse.database import (
    WarehouseError,
    all_or_nothing,
    create_table_sql,
    existing_raw_tables,
)
from warehouse.ids import normalized_id_sql

LOADER_SCHEMA = "loader"
LOADED_AT_POLICIES = ("auto", "event", "now")
LOADED_FILES_COLUMNS = {
    "source_table": "varchar",
    "file_name": "varchar",
    "file_sha256": "varchar",
    "rows_read": "bigint",
    "rows_added": "bigint",
    "loaded_at_policy": "varchar",
    "loaded_at": "timestamp",
    # What the mapping made of the file (SourceMapping.settings): the same file
    # with other settings would give other rows.
    "mapping_settings": "varchar",
}

__all__ = ["LOADED_AT_POLICIES", "LoadError", "SourceReport", "load"]


@dataclass
class SourceReport:
    table: str
    file: str
    rows_read: int = 0
    rows_added: int = 0
    loaded_at: str = ""
    skipped: str = ""
    notes: list[notes.Note] = field(default_factory=list)


def prepare(con: duckdb.DuckDBPyConnection, source: SourceMapping) -> SourceReport:
    """Read, map and check one export into temp table `prepared` (contract columns
    but the load time). Raises LoadError for a file that cannot be loaded as mapped."""
    file_types = read_export(con, source)
    report = SourceReport(source.table, str(source.file))
    if source.currency_column:
        file_column(source, "currency", source.currency_column, file_types)
    contract = {c: k for c, k in RAW_TABLES[source.table].items() if c != LOADED_AT_COLUMN}
    raw_values = {c: source_expression(source, c, file_types) for c in contract}
    # A column that does not parse as a whole is refused before any row is typed.
    report.notes += notes.unparseable_notes(con, source, contract, raw_values, file_types)
    id_column = ID_COLUMN[source.table]
    select = ",\n".join(
        f"cast({typed_sql(source, c, kind, raw_values[c], file_types)} as {kind}) as {c}"
        for c, kind in contract.items()
        if c != id_column
    )
    id_sql = normalized_id_sql("source_id")
    if raw_values[id_column] is None:
        id_sql, identity = derived_id_sql(contract, id_column)
        report.notes.append(
            notes.Note(None, f"no {id_column} in the export: derived from {', '.join(identity)}")
        )
    con.execute(
        f"create or replace temp table prepared as select {id_sql} as {id_column},"
        f" * exclude (source_id) from (select {raw_values[id_column] or 'null'} as source_id,"
        f" {select} from export_file)"
    )
    report.rows_read = con.execute("select count(*) from prepared").fetchone()[0]
    report.notes += [
        *notes.category_notes(con, source.table, raw_values),
        *notes.currency_notes(con, source),
        *notes.amount_notes(con, source.table, contract),
        *notes.id_notes(con, source, contract, raw_values),
    ]
    return report


def typed_sql(source, column: str, kind: str, raw: str | None, file_types) -> str:
    if raw is None:
        return "null"
    return typed_expression(source, column, kind, raw, file_type(source, column, file_types))


def derived_id_sql(contract: dict[str, str], id_column: str) -> tuple[str, list[str]]:
    """Same event, same id, in every export: a hash of what does not change (ids in it
    already normalised, so a zero-width space does not make another event)."""
    identity = [c for c in contract if c != id_column and c not in MUTABLE_COLUMNS]
    parts = ", ".join(f"coalesce(cast({c} as varchar), '')" for c in identity)
    return f"'derived-' || md5(concat_ws('|', {parts}))", identity


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every raw table of the contract (absent sources stay empty) and the file log."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    present = set(existing_raw_tables(con))
    for table in RAW_TABLES:
        if table not in present:
            con.execute(create_table_sql(RAW_SCHEMA, table))
    con.execute(f"create schema if not exists {LOADER_SCHEMA}")
    columns = ", ".join(f"{name} {kind}" for name, kind in LOADED_FILES_COLUMNS.items())
    con.execute(f"create table if not exists {LOADER_SCHEMA}.loaded_files ({columns})")
    # A log written before mapping settings were recorded gains the column (NULL).
    con.execute(
        f"alter table {LOADER_SCHEMA}.loaded_files add column if not exists mapping_settings"
        f" {LOADED_FILES_COLUMNS['mapping_settings']}"
    )


def existing_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchone()[0]


def loaded_at_sql(con, policy: str, table: str, load_time: datetime) -> tuple[str, str, str]:
    """(SQL for `_loaded_at`, what it means, the policy applied). `auto` is a history
    backfill (event time) for a table's first load and the load time after that."""
    if policy == "auto":
        policy = "event" if existing_rows(con, table) == 0 else "now"
    now = f"timestamp {literal(load_time.isoformat(sep=' '))}"
    if policy == "event":
        # Nothing was known after the moment of loading: an event dated later
        # (9999-12-31) is stamped with the load time, and staging sees a future event.
        return (
            f"least({EVENT_TIME_COLUMN[table]}, {now})",
            "each row's event time (history backfill), at most the load time",
            policy,
        )
    if policy == "now":
        return now, f"the load time {load_time:%Y-%m-%d %H:%M}", policy
    return f"timestamp {literal(policy)}", f"the given time {policy}", policy


def insert_new(con: duckdb.DuckDBPyConnection, table: str, stamp: str, relation: str) -> int:
    """Append the rows of `relation` whose id is not in the raw table yet."""
    key = ID_COLUMN[table]
    return con.execute(
        f"insert into {RAW_SCHEMA}.{table} by name"
        f" select new.*, {stamp} as {LOADED_AT_COLUMN} from {relation} as new"
        f" anti join {RAW_SCHEMA}.{table} as old on new.{key} = old.{key}"
    ).fetchone()[0]


def earlier_load(con, source: SourceMapping, digest: str) -> tuple[datetime, str | None] | None:
    """When this content was loaded into the table before, and with what settings:
    the same settings if any load had them (or none were recorded, before they were)."""
    rows = con.execute(
        f"select loaded_at, mapping_settings from {LOADER_SCHEMA}.loaded_files"
        " where source_table = ? and file_sha256 = ? order by loaded_at desc",
        [source.table, digest],
    ).fetchall()
    same = [r for r in rows if r[1] in (None, source.settings())]
    return (same or rows or [None])[0]


def changed_settings(before: str, after: str) -> str:
    old, new = json.loads(before), json.loads(after)
    return ", ".join(key for key in sorted(new) if old.get(key) != new[key])


def refuse_other_settings(source: SourceMapping, loaded_at: datetime, settings: str) -> LoadError:
    return LoadError(
        f"{source.file}: this content was loaded into {RAW_SCHEMA}.{source.table} on"
        f" {loaded_at:%Y-%m-%d %H:%M} with other mapping settings"
        f" ({changed_settings(settings, source.settings())}); raw tables are append-only,"
        " so the rows loaded then stay as they were (to load it with the new mapping, start"
        " a new warehouse with --db and load every export into it)"
    )


def load_source(con, source: SourceMapping, policy: str, load_time: datetime) -> SourceReport:
    report = prepare(con, source)  # checked even when skipped: a bad mapping is an error
    digest = file_sha256(source.file)
    earlier = earlier_load(con, source, digest)
    if earlier and earlier[1] not in (None, source.settings()):
        raise refuse_other_settings(source, *earlier)
    if earlier:
        report.skipped = f"same content already loaded at {earlier[0]:%Y-%m-%d %H:%M}"
        return report
    stamp, report.loaded_at, policy = loaded_at_sql(con, policy, source.table, load_time)
    report.notes += notes.time_notes(con, source.table, stamp)
    report.rows_added = insert_new(con, source.table, stamp, "prepared")
    con.execute(
        f"insert into {LOADER_SCHEMA}.loaded_files by name select * from (values"
        " (?, ?, ?, ?, ?, ?, ?, ?)) as t(" + ", ".join(LOADED_FILES_COLUMNS) + ")",
        [
            source.table,
            source.file.name,
            digest,
            report.rows_read,
            report.rows_added,
            policy,
            load_time,
            source.settings(),
        ],
    )
    return report


def derive_customers(con, policy: str, load_time: datetime) -> SourceReport:
    """Customers from the orders when the shop exports none: first order = sign-up,
    attributes unknown. Only customers not in raw.customers yet are added."""
    report = SourceReport("customers", "(derived from raw.orders)")
    stamp, report.loaded_at, _ = loaded_at_sql(con, policy, "customers", load_time)
    customer = normalized_id_sql("customer_id")  # ids loaded before they were normalised too
    con.execute(
        f"create or replace temp table derived_customers as select {customer} as customer_id,"
        f" min(ordered_at) as signup_at from {RAW_SCHEMA}.orders where {customer} is not null"
        " group by all"
    )
    report.rows_read = con.execute("select count(*) from derived_customers").fetchone()[0]
    report.rows_added = insert_new(con, "customers", stamp, "derived_customers")
    return report


def load(mapping: Mapping, db_path: Path, loaded_at: str = "auto") -> list[SourceReport]:
    """Load every source of the mapping in one transaction: all of it, or nothing."""
    load_time = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    reports = []
    try:
        with all_or_nothing(db_path) as con:
            con.execute(f"set TimeZone = {literal(mapping.timezone)}")
            ensure_tables(con)
            for table in RAW_TABLES:  # contract order: customers before orders
                if table in mapping.sources:
                    reports.append(load_source(con, mapping.sources[table], loaded_at, load_time))
            if "customers" not in mapping.sources:
                reports.append(derive_customers(con, loaded_at, load_time))
    except WarehouseError as exc:
        raise LoadError(str(exc)) from exc
    except duckdb.Error as exc:
        raise LoadError(f"{db_path}: {str(exc).splitlines()[0]}") from exc
    return reports
