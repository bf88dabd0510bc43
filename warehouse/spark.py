"""Apache Spark as the second engine of the warehouse (docs/spark.md).

A local Spark warehouse is a folder (`CHURN_SPARK_DIR`, default data/spark):
- `warehouse/`: the tables, one Parquet folder each (`<schema>.db/<table>`),
  in a Hive catalog whose metastore is an embedded Derby database
  (`metastore_db/`, one Spark process at a time);
- `raw/<table>/`: the raw tables as Parquet, with the raw contract's columns
  and `_raw_rowid` (the row's position in the DuckDB raw table it came from).

PySpark is an optional dependency (the `spark` extra): it is imported only
when a session is made, so nothing else needs it.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from warehouse.contract import RAW_SCHEMA, RAW_TABLES
from warehouse.database import quote_identifier, quote_literal
from warehouse.ids import normalize_id

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SPARK_DIR_ENV_VAR = "CHURN_SPARK_DIR"
DEFAULT_SPARK_DIR = "data/spark"
RAW_ROWID = "_raw_rowid"
# The last complete build (every model and test): its id and features hash.
LAST_BUILD_FILE = "last_build.json"
NO_SPARK = (
    "PySpark is not installed: install the project with its spark extra"
    " (pip install -e '.[spark]'), which `make install` does"
)
NO_JAVA = "Spark needs Java 17 or later: install a JDK (Debian: openjdk-17-jre-headless)"


class SparkUnavailable(Exception):
    """Spark cannot run here (no PySpark, no Java); one line saying what to install."""


def spark_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The local Spark warehouse folder: `path`, else $CHURN_SPARK_DIR, else data/spark."""
    return Path(path or os.environ.get(SPARK_DIR_ENV_VAR) or DEFAULT_SPARK_DIR).resolve()


def is_spark_warehouse(path: Path) -> bool:
    """A local Spark warehouse folder (it has a metastore), not a DuckDB file."""
    return (Path(path) / "metastore_db").is_dir()


def java_available() -> bool:
    return bool(os.environ.get("JAVA_HOME") or shutil.which("java"))


def settings(folder: Path, driver_memory: str = "4g") -> dict[str, str]:
    """The session's configuration: the Hive catalog at `folder`, UTC, no ANSI mode.

    UTC: dbt's date macros go through Unix timestamps on Spark, and DuckDB's
    timestamps have no zone. ANSI off, as dbt-spark sets it: a value that does
    not parse becomes NULL in try_cast and cast alike (staging quarantines it).
    Timestamps are written as microseconds, the unit DuckDB and Arrow read.
    """
    metastore = folder / "metastore_db"
    return {
        "spark.master": "local[*]",
        "spark.app.name": "churn",
        "spark.driver.memory": driver_memory,
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={folder}",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",
        "spark.sql.shuffle.partitions": str(max(2, 2 * (os.cpu_count() or 1))),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
    }


def session(folder: Path, driver_memory: str = "4g") -> SparkSession:
    """A local Spark session on the warehouse at `folder`, with the feature store's
    SQL functions registered (`churn_normalize_id`)."""
    if not java_available():
        raise SparkUnavailable(NO_JAVA)
    # PySpark 4.3 warns about pandas 3 on import; the project reads through Arrow.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    try:
        from pyspark.sql import SparkSession
        from pyspark.sql.functions import udf
        from pyspark.sql.types import StringType
    except ImportError:
        raise SparkUnavailable(NO_SPARK) from None
    # The Python workers (the UDFs) run this interpreter, which has the project.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no warning about the hostname
    folder.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in settings(folder, driver_memory).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        spark.sql("show databases").collect()  # opens the metastore: busy or broken shows here
    except Exception as error:  # py4j and PySpark errors: the JVM, the memory setting, Derby
        raise SparkUnavailable(start_failure(folder, error)) from None
    spark.udf.register("churn_normalize_id", udf(normalize_id, StringType(), useArrow=True))
    return spark


def start_failure(folder: Path, error: Exception) -> str:
    """One line for a session that could not start or open the catalog."""
    first = next((line for line in str(error).splitlines() if line.strip()), type(error).__name__)
    return (
        f"Spark could not open the warehouse at {folder} (is another Spark process using"
        f" its catalog? Java 17 or later?): {first[:300]}"
    )


def spark_literal(text: str | os.PathLike[str]) -> str:
    """A string literal for Spark SQL, which unescapes backslashes inside quotes."""
    return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"


def raw_folder(folder: Path, table: str) -> Path:
    return folder / "raw" / table


def export_raw(db_path: Path, folder: Path) -> dict[str, int]:
    """Copy every raw table of the DuckDB warehouse at `db_path` to `folder`/raw as
    Parquet, with each row's DuckDB rowid as `_raw_rowid`: the raw tables a Spark
    build reads, whatever wrote them (the generator or the loader). Each table is
    written to a new folder and swapped in, so a reader sees the old or the new
    copy. Returns the rows per table."""
    counts = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        for table in RAW_TABLES:
            target = raw_folder(folder, table)
            staged = target.with_name(f".{table}.partial")
            shutil.rmtree(staged, ignore_errors=True)
            staged.mkdir(parents=True)
            relation = f"{quote_identifier(RAW_SCHEMA)}.{quote_identifier(table)}"
            con.execute(
                f"copy (select rowid as {RAW_ROWID}, * from {relation}) to"
                f" {quote_literal(staged / 'part-0.parquet')} (format parquet)"
            )
            counts[table] = con.execute(f"select count(*) from {relation}").fetchone()[0]
            old = target.with_name(f".{table}.old")
            shutil.rmtree(old, ignore_errors=True)
            if target.exists():
                target.rename(old)
            staged.rename(target)
            shutil.rmtree(old, ignore_errors=True)
    return counts


def register_raw(spark: SparkSession, folder: Path) -> None:
    """Point the catalog's raw tables at the Parquet folders (re-read every build)."""
    spark.sql(f"create database if not exists {RAW_SCHEMA}")
    for table in RAW_TABLES:
        location = raw_folder(folder, table)
        if not location.exists():
            raise FileNotFoundError(
                f"{location}: no raw Parquet for {table}; export the raw tables first"
            )
        spark.sql(f"drop table if exists {RAW_SCHEMA}.{table}")
        spark.sql(
            f"create table {RAW_SCHEMA}.{table} using parquet location {spark_literal(location)}"
        )


def read_table(spark: SparkSession, relation: str, where: str = "true") -> pa.Table:
    """A table (or its rows where `where` holds) through Arrow, types kept."""
    return spark.sql(f"select * from {relation} where {where}").toArrow()
