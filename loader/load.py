"""Land a shop's own CSV or Parquet exports in the warehouse's raw tables.

The mapping file says which file feeds which raw table and how its columns,
timestamps, currencies and category values map to the raw contract (see
loader.mapping). Orders are required; every other source is optional and
an absent one becomes an empty table. Without a customers export, customers
are derived from the orders (first order = sign-up).

Loading is idempotent: a file already loaded (same content) is skipped, and
rows whose event id is already in the warehouse are not added again, so a
later export that overlaps an earlier one appends only what is new. Bad rows
are not an error: they land as they are and the feature store quarantines them
with a reason; the loader counts them. A bad file or mapping is an error, and
then the warehouse is left untouched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from loader.mapping import (
    MONEY_COLUMNS,
    MUTABLE_COLUMNS,
    OPTIONAL_COLUMNS,
    Mapping,
    SourceMapping,
)
from warehouse.contract import (
    ACCEPTED_VALUES,
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

LOADER_SCHEMA = "loader"
# A column is unparseable as a whole (wrong format or wrong column) when more
# than this share of its non-empty values fail; below it, the failing rows are
# individual bad rows and go to the quarantine.
MAX_BAD_SHARE = 0.5
# Where staging quarantines a row whose value the loader could not parse, and one
# whose category is not accepted (each a member of warehouse.contract.REJECT_REASONS).
REJECT_REASON_OF_TYPE = {
    "TIMESTAMP": "missing_timestamp",
    "DOUBLE": "missing_value",
    "INTEGER": "missing_value",
}
UNKNOWN_CATEGORY = "unknown_category"
LOADED_AT_POLICIES = ("auto", "event", "now")


class LoadError(Exception):
    """A file cannot be loaded as mapped (one line: file, column, reason)."""


@dataclass
class SourceReport:
    table: str
    file: str
    rows_read: int = 0
    rows_added: int = 0
    loaded_at: str = ""
    skipped: str = ""
    notes: list[str] = field(default_factory=list)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def as_text(value: str) -> str:
    """SQL: the value as trimmed text, NULL when empty."""
    return f"nullif(trim(cast({value} as varchar)), '')"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_export(con: duckdb.DuckDBPyConnection, source: SourceMapping) -> dict[str, str]:
    """Expose the file as view `export_file`; returns its columns and their types.
    CSV is read as text so that the loader, not a guess, decides each type."""
    path = source.file
    if not path.is_file():
        raise LoadError(f"{path}: no such file (source {source.table})")
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith(".parquet"):
        reader = f"read_parquet({literal(str(path))})"
    elif suffix.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
        options = ", header = true, all_varchar = true"
        if source.delimiter:
            options += f", delim = {literal(source.delimiter)}"
        reader = f"read_csv({literal(str(path))}{options})"
    else:
        raise LoadError(f"{path}: unsupported file type {suffix or '(none)'}: CSV or Parquet")
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: empty file")
    try:
        con.execute(f"create or replace temp view export_file as select * from {reader}")
        types = dict(
            con.execute("select column_name, column_type from (describe export_file)").fetchall()
        )
        rows = con.execute("select count(*) from export_file").fetchone()[0]
    except duckdb.Error as exc:
        raise LoadError(f"{path}: cannot read: {str(exc).splitlines()[0]}") from exc
    if rows == 0:
        raise LoadError(f"{path}: empty file (a header but no rows)")
    return types


def source_expression(
    source: SourceMapping, column: str, file_columns: dict[str, str]
) -> str | None:
    """The export's raw value for a contract column, or None when it has none."""
    if column in source.columns:
        name = source.columns[column]
        if name not in file_columns:
            raise LoadError(
                f"{source.file}: mapping names column {name!r} for {column}, but the file has no"
                f" such column (it has: {', '.join(file_columns)})"
            )
        return quote(name)
    if column in source.constants:
        return literal(source.constants[column])
    if column in file_columns:
        return quote(column)
    if column in OPTIONAL_COLUMNS:
        return None
    raise LoadError(
        f"{source.file}: missing required column {column} of raw.{source.table}: name the file's"
        f" column under sources.{source.table}.columns, or give a value under constants"
    )


def typed_expression(
    source: SourceMapping, column: str, kind: str, value: str, convert_currency: bool = True
) -> str:
    """SQL turning the export's value into the contract type; NULL where it does not parse."""
    text = as_text(value)
    if kind == "TIMESTAMP":
        parsed = (
            f"try_strptime({text}, {literal(source.timestamp_format)})"
            if source.timestamp_format
            else value
        )
        # Naive values are read in the mapping's time zone (the session's); stored as UTC.
        return f"timezone('UTC', try_cast({parsed} as timestamptz))"
    if kind in ("DOUBLE", "INTEGER"):
        number = text
        if source.decimal_separator != ".":
            number = f"replace({text}, {literal(source.decimal_separator)}, '.')"
        number = f"try_cast({number} as double)"
        if column in MONEY_COLUMNS:
            number = f"{number} / {source.amount_divisor!r}"
            if source.currency_column and convert_currency:
                rates = " ".join(
                    f"when {literal(code)} then {rate!r}"
                    for code, rate in source.currency_rates.items()
                )
                currency = f"upper(trim({quote(source.currency_column)}))"
                number = f"{number} * (case {currency} {rates} end)"
        return number if kind == "DOUBLE" else f"try_cast(round({number}) as integer)"
    groups = source.values.get(column)
    if not groups:
        return text
    cases = " ".join(
        f"when {literal(original.lower())} then {literal(target)}"
        for target, originals in groups.items()
        for original in originals
    )
    return f"case lower({text}) {cases} else {text} end"


def prepare(con: duckdb.DuckDBPyConnection, source: SourceMapping) -> SourceReport:
    """Read, map and check one export into temp table `prepared` (contract columns
    but the load time). Raises LoadError for a file that cannot be loaded as mapped."""
    file_columns = read_export(con, source)
    report = SourceReport(source.table, str(source.file))
    if source.currency_column and source.currency_column not in file_columns:
        raise LoadError(
            f"{source.file}: mapping names currency column {source.currency_column!r}, but the"
            f" file has no such column (it has: {', '.join(file_columns)})"
        )
    contract = {c: k for c, k in RAW_TABLES[source.table].items() if c != LOADED_AT_COLUMN}
    raw_values = {c: source_expression(source, c, file_columns) for c in contract}
    typed = {
        c: typed_expression(source, c, kind, raw_values[c]) if raw_values[c] else "null"
        for c, kind in contract.items()
    }
    id_column = ID_COLUMN[source.table]
    select = ",\n".join(
        f"cast({typed[c]} as {kind}) as {c}" for c, kind in contract.items() if c != id_column
    )
    if raw_values[id_column] is None:
        # Same event, same id, in every export: a hash of what does not change.
        identity = [c for c in contract if c != id_column and c not in MUTABLE_COLUMNS]
        parts = ", ".join(f"coalesce(cast({c} as varchar), '')" for c in identity)
        id_sql = f"'derived-' || md5(concat_ws('|', {parts}))"
        report.notes.append(f"no {id_column} in the export: derived from {', '.join(identity)}")
    else:
        id_sql = as_text("source_id")
    con.execute(
        f"create or replace temp table prepared as select {id_sql} as {id_column},"
        f" * exclude (source_id) from (select {raw_values[id_column] or 'null'} as source_id,"
        f" {select} from export_file)"
    )
    report.rows_read = con.execute("select count(*) from prepared").fetchone()[0]
    check_values(con, source, contract, raw_values, report)
    return report


def check_values(
    con: duckdb.DuckDBPyConnection,
    source: SourceMapping,
    contract: dict[str, str],
    raw_values: dict[str, str | None],
    report: SourceReport,
) -> None:
    """Fail on a column that does not parse as a whole; count individual bad rows."""
    report.notes += unparseable_notes(con, source, contract, raw_values)
    report.notes += category_notes(con, source.table, raw_values)
    report.notes += currency_notes(con, source)
    missing = con.execute("select count(*) from prepared where customer_id is null").fetchone()[0]
    if missing:
        report.notes.append(f"{missing:,} rows without customer_id: quarantined")


def unparseable_notes(
    con: duckdb.DuckDBPyConnection,
    source: SourceMapping,
    contract: dict[str, str],
    raw_values: dict[str, str | None],
) -> list[str]:
    """A note per typed column with values that do not parse; LoadError when more
    than MAX_BAD_SHARE of a column fails (the wrong column or format, not bad rows)."""
    notes = []
    for column, kind in contract.items():
        value = raw_values[column]
        if value is None or column in source.constants or kind == "VARCHAR":
            continue
        # Parsed without the currency: a missing rate is counted on its own.
        parsed = typed_expression(source, column, kind, value, convert_currency=False)
        non_empty, failed, example = con.execute(
            "select count(shown), count(shown) filter (where parsed is null),"
            " any_value(shown) filter (where parsed is null)"
            f" from (select {as_text(value)} as shown,"
            f" {parsed} as parsed from export_file)"
        ).fetchone()
        if failed == 0:
            continue
        if failed > MAX_BAD_SHARE * non_empty:
            raise LoadError(
                f"{source.file}: column {source.columns.get(column, column)!r} ({column}):"
                f" {failed:,} of {non_empty:,} values do not parse as"
                f" {expected_format(source, kind)}, e.g. {example!r}"
            )
        notes.append(
            f"{failed:,} rows with an unparseable {column} (e.g. {example!r}):"
            f" quarantined as {REJECT_REASON_OF_TYPE[kind]}"
        )
    return notes


def expected_format(source: SourceMapping, kind: str) -> str:
    """What a value of this contract type must look like, for an error message."""
    if kind != "TIMESTAMP":
        return "a number"
    if source.timestamp_format:
        return f"a timestamp with format {source.timestamp_format!r}"
    return "an ISO 8601 timestamp (set timestamp_format)"


def category_notes(
    con: duckdb.DuckDBPyConnection, table: str, raw_values: dict[str, str | None]
) -> list[str]:
    """A note per category column with values the contract does not accept."""
    notes = []
    for column, allowed in ACCEPTED_VALUES.get(table, {}).items():
        if raw_values[column] is None:
            continue
        outside, example = con.execute(
            f"select count(*), any_value({column}) from prepared"
            f" where {column} is not null and lower({column}) not in"
            f" ({', '.join(literal(v) for v in allowed)})"
        ).fetchone()
        if outside:
            notes.append(
                f"{outside:,} rows with a {column} outside {list(allowed)} (e.g."
                f" {example!r}; map it under values): quarantined as {UNKNOWN_CATEGORY}"
            )
    return notes


def currency_notes(con: duckdb.DuckDBPyConnection, source: SourceMapping) -> list[str]:
    """A note when rows are in a currency the mapping has no rate for."""
    if not source.currency_column:
        return []
    codes = ", ".join(literal(c) for c in source.currency_rates)
    unknown, example = con.execute(
        f"select count(*), any_value(code) from (select upper(trim(cast("
        f"{quote(source.currency_column)} as varchar))) as code from export_file)"
        f" where code not in ({codes}) or code is null"
    ).fetchone()
    if not unknown:
        return []
    return [
        f"{unknown:,} rows in a currency without a rate (e.g. {example!r}): amounts"
        f" left empty, quarantined as {REJECT_REASON_OF_TYPE['DOUBLE']}"
    ]


def existing_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchone()[0]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every raw table of the contract (absent sources stay empty) and the file log."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    present = set(existing_raw_tables(con))
    for table in RAW_TABLES:
        if table not in present:
            con.execute(create_table_sql(RAW_SCHEMA, table))
    con.execute(f"create schema if not exists {LOADER_SCHEMA}")
    con.execute(
        f"create table if not exists {LOADER_SCHEMA}.loaded_files (source_table varchar,"
        " file_name varchar, file_sha256 varchar, rows_read bigint, rows_added bigint,"
        " loaded_at_policy varchar, loaded_at timestamp)"
    )


def loaded_at_sql(con, policy: str, table: str, load_time: datetime) -> tuple[str, str, str]:
    """(SQL for `_loaded_at`, what it means, the policy applied). `auto` is a history
    backfill (event time) for a table's first load and the load time after that."""
    if policy == "auto":
        policy = "event" if existing_rows(con, table) == 0 else "now"
    return (*_stamp(policy, table, load_time), policy)


def _stamp(policy: str, table: str, load_time: datetime) -> tuple[str, str]:
    if policy == "event":
        return EVENT_TIME_COLUMN[table], "each row's event time (history backfill)"
    if policy == "now":
        return (
            f"timestamp {literal(load_time.isoformat(sep=' '))}",
            f"the load time {load_time:%Y-%m-%d %H:%M}",
        )
    return f"timestamp {literal(policy)}", f"the given time {policy}"


def insert_new(con: duckdb.DuckDBPyConnection, table: str, stamp: str, relation: str) -> int:
    """Append the rows of `relation` whose id is not in the raw table yet."""
    key = ID_COLUMN[table]
    return con.execute(
        f"insert into {RAW_SCHEMA}.{table} by name"
        f" select new.*, {stamp} as {LOADED_AT_COLUMN} from {relation} as new"
        f" anti join {RAW_SCHEMA}.{table} as old on new.{key} = old.{key}"
    ).fetchone()[0]


def load_source(con, source: SourceMapping, policy: str, load_time: datetime) -> SourceReport:
    report = prepare(con, source)  # checked even when skipped: a bad mapping is an error
    digest = file_sha256(source.file)
    previous = con.execute(
        f"select max(loaded_at) from {LOADER_SCHEMA}.loaded_files where source_table = ?"
        " and file_sha256 = ?",
        [source.table, digest],
    ).fetchone()[0]
    if previous:
        report.skipped = f"same content already loaded at {previous:%Y-%m-%d %H:%M}"
        return report
    stamp, report.loaded_at, policy = loaded_at_sql(con, policy, source.table, load_time)
    report.rows_added = insert_new(con, source.table, stamp, "prepared")
    con.execute(
        f"insert into {LOADER_SCHEMA}.loaded_files values (?, ?, ?, ?, ?, ?, ?)",
        [
            source.table,
            source.file.name,
            digest,
            report.rows_read,
            report.rows_added,
            policy,
            load_time,
        ],
    )
    return report


def derive_customers(con, policy: str, load_time: datetime) -> SourceReport:
    """Customers from the orders when the shop exports none: first order = sign-up,
    attributes unknown. Only customers not in raw.customers yet are added."""
    report = SourceReport("customers", "(derived from raw.orders)")
    stamp, report.loaded_at, _ = loaded_at_sql(con, policy, "customers", load_time)
    con.execute(
        "create or replace temp table derived_customers as select customer_id,"
        " min(ordered_at) as signup_at from raw.orders where customer_id is not null"
        " group by customer_id"
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
