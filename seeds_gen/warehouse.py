"""The raw contract of the warehouse and where the warehouse lives.

One place for both, shared by the generator, the export loader, the dbt
profile (through the same environment variable) and the modeling layer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

DB_PATH_ENV_VAR = "CHURN_DB_PATH"
DEFAULT_DB_PATH = "data/warehouse.duckdb"

RAW_SCHEMA = "raw"
TRUTH_SCHEMA = "truth"  # evaluation-only ground truth: never read by features
GENERATOR_SCHEMA = "generator"  # the generator's config and its record of injected defects

# Columns of every raw table, in order, with their DuckDB types. Every row of
# every raw table also carries `_loaded_at`, the time the row reached the
# warehouse, which the feature store uses for point-in-time correctness.
RAW_TABLES: dict[str, dict[str, str]] = {
    "customers": {
        "customer_id": "VARCHAR",
        "signup_at": "TIMESTAMP",
        "segment": "VARCHAR",
        "acquisition_channel": "VARCHAR",
        "country": "VARCHAR",
        "_loaded_at": "TIMESTAMP",
    },
    "orders": {
        "order_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "ordered_at": "TIMESTAMP",
        "status": "VARCHAR",
        "order_value": "DOUBLE",
        "discount_amount": "DOUBLE",
        "item_count": "INTEGER",
        "_loaded_at": "TIMESTAMP",
    },
    "site_visits": {
        "visit_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "visited_at": "TIMESTAMP",
        "page_views": "INTEGER",
        "session_seconds": "INTEGER",
        "device": "VARCHAR",
        "_loaded_at": "TIMESTAMP",
    },
    "loyalty_events": {
        "loyalty_event_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "occurred_at": "TIMESTAMP",
        "event_type": "VARCHAR",
        "points": "INTEGER",
        "_loaded_at": "TIMESTAMP",
    },
    "reviews": {
        "review_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "order_id": "VARCHAR",
        "reviewed_at": "TIMESTAMP",
        "rating": "INTEGER",
        "_loaded_at": "TIMESTAMP",
    },
    "support_tickets": {
        "ticket_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "opened_at": "TIMESTAMP",
        "category": "VARCHAR",
        "_loaded_at": "TIMESTAMP",
    },
}
# The time each row describes (for customers: sign-up).
EVENT_TIME_COLUMN = {
    "customers": "signup_at",
    "orders": "ordered_at",
    "site_visits": "visited_at",
    "loyalty_events": "occurred_at",
    "reviews": "reviewed_at",
    "support_tickets": "opened_at",
}
REQUIRED_RAW_TABLES = ("orders",)  # every other source is optional (may be empty)

# Accepted category values; anything else in raw is quarantined as unknown_category.
ORDER_STATUSES = ("completed", "cancelled", "returned")
DEVICES = ("mobile", "desktop", "tablet", "app")
LOYALTY_EVENT_TYPES = ("enrolled", "earned", "redeemed", "expired")
TICKET_CATEGORIES = ("delivery", "product_quality", "payment", "account", "return_refund")
SEGMENTS = ("value", "mainstream", "premium")
CHANNELS = ("organic", "paid_search", "social", "referral", "email")


def resolve_db_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: an explicit path, else $CHURN_DB_PATH, else data/warehouse.duckdb."""
    return Path(path or os.environ.get(DB_PATH_ENV_VAR) or DEFAULT_DB_PATH)


def existing_raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
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
