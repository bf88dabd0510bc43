"""The marts of a Spark warehouse, read through Spark with Arrow (docs/spark.md).

`connect` gives the modeling layer what a DuckDB warehouse's published catalog
gives it: a read-only DuckDB connection with marts.customer_snapshots,
meta.warehouse_identity and scoring.churn_scores, here in-memory tables of
Arrow record batches Spark collected. Each table is read once per process.
A sample share (`--spark-sample`) keeps a stable share of the customers, all
their snapshots, chosen in Spark before anything is collected, for marts
larger than this machine's memory. `write_scores` replaces a scoring run's
rows in the Spark table scoring.churn_scores, which marts.customer_risk (a
view) reads.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from modeling.errors import ModelingError
from warehouse import spark

# The tables the modeling layer reads, by schema.
TABLES = {
    "marts": ("customer_snapshots",),
    "meta": ("warehouse_identity",),
    "scoring": ("churn_scores",),
}
SAMPLE_BUCKETS = 1_000_000
_sample = {"share": 1}  # 1: every customer (and every DuckDB read)


def use_sample(share: float) -> None:
    """Read `share` of the customers (0 < share <= 1) from now on in this process."""
    _sample["share"] = share
    _arrow_table.cache_clear()


def sample_share() -> float:
    return _sample["share"]


@cache
def _session(folder: Path):
    try:
        return spark.session(folder)
    except spark.SparkUnavailable as error:  # no Java, or the JVM or catalog failed
        raise ModelingError(str(error)) from None


@cache
def _arrow_table(folder: Path, relation: str):
    session = _session(folder)
    if not session.catalog.tableExists(relation):
        return None
    where = "true"
    if relation == "marts.customer_snapshots" and _sample["share"] < 1:
        kept = int(_sample["share"] * SAMPLE_BUCKETS)
        where = f"pmod(xxhash64(customer_id), {SAMPLE_BUCKETS}) < {kept}"
    return spark.read_table(session, relation, where)


def last_build(folder: Path) -> dict:
    """The last complete build of the Spark warehouse (featurestore.spark writes it)."""
    try:
        record = json.loads((folder / spark.LAST_BUILD_FILE).read_text())
        return {"build_id": str(record["build_id"])}
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelingError(
            f"no complete build recorded in the Spark warehouse {folder}"
            f" ({spark.LAST_BUILD_FILE} missing or unreadable): run"
            " `python -m featurestore.spark build`"
        ) from None


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection over the Spark warehouse's tables."""
    build = last_build(folder)
    con = duckdb.connect()
    for schema, tables in TABLES.items():
        con.execute(f"create schema {schema}")
        for table in tables:
            arrow = _arrow_table(folder, f"{schema}.{table}")
            if arrow is None:
                continue
            con.register(f"arrow_{schema}_{table}", arrow)
            stamp = ", ? as build_id" if schema == "marts" else ""
            con.execute(
                f"create table {schema}.{table} as select *{stamp} from arrow_{schema}_{table}",
                [build["build_id"]] if stamp else [],
            )
            con.unregister(f"arrow_{schema}_{table}")
    return con


def write_scores(folder: Path, scores: pd.DataFrame, relation: str, replaced: dict) -> None:
    """Replace the rows of `relation` whose columns equal `replaced` (e.g. one as_of
    of one model version) by `scores`: the other rows are collected first, then
    the table is overwritten with them and the new ones (Parquet tables without
    Delta have no DELETE). The filter is built as columns, not SQL text."""
    from pyspark.sql import functions as F

    session = _session(folder)
    table = session.table(relation)
    match = F.lit(True)
    for column, value in replaced.items():
        match = match & (F.col(column) == F.lit(value))
    kept = table.where(~F.coalesce(match, F.lit(False))).toArrow()
    new = pa.Table.from_pandas(scores[kept.column_names], preserve_index=False)
    rows = pa.concat_tables([kept, new.cast(kept.schema)])
    session.createDataFrame(rows).write.insertInto(relation, overwrite=True)
    _arrow_table.cache_clear()
