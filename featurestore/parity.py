"""Are the marts of a Spark build the DuckDB build's? Column by column.

Both sides are read by DuckDB: the DuckDB warehouse's marts, and the Spark
tables' Parquet folders (Hive-partitioned). Rows are matched on each mart's key
(its uniqueness test) and every column compared: exactly for integers, dates,
timestamps, strings and booleans; doubles within a relative tolerance (sums
and averages may add in another order). A mart without a key (quarantined
rows) is compared as a multiset, exactly. The result names every column that
differs, with a count and an example.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.database import quote_identifier, quote_literal

RELATIVE_TOLERANCE = 1e-9
# Lineage, not data: the hash of each engine's own manifest (the SQL that ran
# differs, e.g. dbt-spark's datediff), checked against that manifest instead.
LINEAGE_COLUMNS = ("features_sha256",)
# Mart -> the columns a row is matched on (its uniqueness test); none: a multiset.
MART_KEYS: dict[str, tuple[str, ...]] = {
    "customer_snapshots": ("customer_id", "as_of"),
    "dim_customers": ("customer_id",),
    "churn_summary_monthly": ("as_of", "segment", "acquisition_channel"),
    "quarantined_rows": (),
}


@dataclass
class MartParity:
    mart: str
    rows: tuple[int, int]  # (DuckDB, Spark)
    unmatched: tuple[int, int] = (0, 0)  # rows only in DuckDB, only in Spark
    columns: dict[str, str] = field(default_factory=dict)  # column -> what differs

    @property
    def equal(self) -> bool:
        return self.rows[0] == self.rows[1] and self.unmatched == (0, 0) and not self.columns

    def describe(self) -> str:
        if self.equal:
            return f"{self.mart}: {self.rows[0]} rows, every column equal"
        problems = (
            [f"rows {self.rows[0]} vs {self.rows[1]}"] if self.rows[0] != self.rows[1] else []
        )
        if self.unmatched != (0, 0):
            problems.append(
                f"{self.unmatched[0]} rows only in DuckDB, {self.unmatched[1]} only in Spark"
            )
        problems += [f"{column}: {what}" for column, what in self.columns.items()]
        return f"{self.mart}: " + "; ".join(problems)


def spark_table_path(spark_warehouse: Path, schema: str, table: str) -> Path:
    return spark_warehouse / f"{schema}.db" / table


def compare_marts(duckdb_path: Path, spark_warehouse: Path) -> list[MartParity]:
    """Every mart of MART_KEYS compared between the two builds."""
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")  # Spark's timestamps are UTC instants
        con.execute(f"attach {quote_literal(duckdb_path)} as duck (read_only)")
        return [
            compare_mart(con, mart, keys, spark_table_path(spark_warehouse, "marts", mart))
            for mart, keys in MART_KEYS.items()
        ]


def compare_mart(
    con: duckdb.DuckDBPyConnection, mart: str, keys: tuple[str, ...], spark_folder: Path
) -> MartParity:
    described = con.execute(f"select column_name, column_type from (describe duck.marts.{mart})")
    types = {c: t for c, t in described.fetchall() if c not in LINEAGE_COLUMNS}
    files = quote_literal(spark_folder / "**" / "*.parquet")
    # Spark's columns in DuckDB's types (timestamps come back as UTC instants,
    # partition columns as text).
    casts = ", ".join(
        f"cast({quote_identifier(c)} as {t}) as {quote_identifier(c)}" for c, t in types.items()
    )
    con.execute(
        f"create or replace temp view spark_side as select {casts}"
        f" from read_parquet({files}, hive_partitioning = true)"
    )
    columns = ", ".join(quote_identifier(c) for c in types)
    con.execute(f"create or replace temp view duck_side as select {columns} from duck.marts.{mart}")
    rows = (
        con.execute("select count(*) from duck_side").fetchone()[0],
        con.execute("select count(*) from spark_side").fetchone()[0],
    )
    if not keys:
        only = [
            con.execute(
                f"select count(*) from (select * from {a} except all select * from {b})"
            ).fetchone()[0]
            for a, b in (("duck_side", "spark_side"), ("spark_side", "duck_side"))
        ]
        return MartParity(mart, rows, (only[0], only[1]))
    on = " and ".join(
        f"d.{quote_identifier(k)} is not distinct from s.{quote_identifier(k)}" for k in keys
    )
    # Column i of DuckDB's row is d<i>, of Spark's s<i>.
    sides = ", ".join(
        f"d.{quote_identifier(c)} as d{i}, s.{quote_identifier(c)} as s{i}"
        for i, c in enumerate(types)
    )
    con.execute(
        f"create or replace temp table matched as select {sides}"
        f" from duck_side as d inner join spark_side as s on {on}"
    )
    unmatched = (
        con.execute(
            f"select count(*) from duck_side as d anti join spark_side as s on {on}"
        ).fetchone()[0],
        con.execute(
            f"select count(*) from spark_side as s anti join duck_side as d on {on}"
        ).fetchone()[0],
    )
    parity = MartParity(mart, rows, unmatched)
    for i, (column, data_type) in enumerate(types.items()):
        duck, spark = f"d{i}", f"s{i}"
        if data_type in ("DOUBLE", "FLOAT"):
            differs = (
                f"not ({duck} is not distinct from {spark} or abs({duck} - {spark})"
                f" <= {RELATIVE_TOLERANCE} * greatest(abs({duck}), abs({spark})))"
            )
        else:
            differs = f"{duck} is distinct from {spark}"
        example = f"any_value(cast({duck} as varchar) || ' vs ' || cast({spark} as varchar))"
        count, example = con.execute(
            f"select count(*), {example} from matched where {differs}"
        ).fetchone()
        if count:
            parity.columns[column] = f"{count} rows differ, e.g. {example}"
    return parity
