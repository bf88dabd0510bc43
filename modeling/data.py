"""Reading the snapshot mart (the published version) and splitting it out of time."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from modeling import spark_marts
from modeling.churn_pyfunc import mart_features
from modeling.errors import ModelingError
from modeling.manifest import DEFAULT_MANIFEST, SNAPSHOT_MODEL, FeatureSpec
from warehouse import published
from warehouse.database import (
    NOT_A_DATABASE,
    not_duckdb_file,
    open_error_reason,
    quote_identifier,
    resolve_db_path,
)
from warehouse.spark import is_spark_warehouse, spark_dir

MART_SCHEMA = "marts"
SNAPSHOT_TABLE = f"{MART_SCHEMA}.{SNAPSHOT_MODEL}"
# Columns of the mart contract that the modeling layer reads besides the features.
LABEL_WINDOW_END = "label_window_end"
FEATURES_HASH_COLUMN = "features_sha256"  # the code and vars that built the row
BUILD_COLUMN = "build_id"  # the build whose published version the row belongs to


def connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """The published version of the warehouse's marts (warehouse.published): never
    the warehouse itself, whose writers a reader would block (its header is read
    only to say what is wrong with a path that is no warehouse). For a Spark
    warehouse folder, its tables read through Spark (modeling.spark_marts)."""
    db_path = Path(db_path)
    if is_spark_warehouse(db_path):
        return spark_marts.connect(db_path)
    if not db_path.exists():
        raise ModelingError(f"no warehouse at {db_path}: run `python -m seeds_gen` and `dbt build`")
    try:
        if db_path.is_file() and not_duckdb_file(db_path):
            raise ModelingError(f"cannot open {db_path}: {NOT_A_DATABASE}")
        return published.connect(db_path)
    except OSError as error:
        raise ModelingError(f"cannot open {db_path}: {open_error_reason(error)}") from None
    except published.PublishedError as error:
        raise ModelingError(str(error)) from None


def marts_and_manifest(args: argparse.Namespace) -> tuple[Path, Path]:
    """Where a CLI reads the marts and the dbt manifest: the DuckDB warehouse (--db)
    and target/manifest.json, or with --target spark the Spark warehouse folder
    and the manifest of its build; --manifest wins."""
    if args.target == "spark":
        folder = spark_dir(args.spark_dir)
        if not is_spark_warehouse(folder):
            raise ModelingError(
                f"no Spark warehouse at {folder}: build one with"
                " `python -m featurestore.spark build --raw-from data/warehouse.duckdb`"
            )
        return folder, args.manifest or folder / "target" / "manifest.json"
    return resolve_db_path(args.db), args.manifest or DEFAULT_MANIFEST


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
    ]


def read_snapshots(db_path: Path, spec: FeatureSpec, where: str = "true") -> pd.DataFrame:
    """The mart's id, time, label and features (plus lineage columns), read-only."""
    with connect_read_only(db_path) as con:
        present = table_columns(con, MART_SCHEMA, SNAPSHOT_MODEL)
        if not present:
            raise ModelingError(
                f"no {SNAPSHOT_TABLE} in the published marts of {db_path}: run `dbt build`"
            )
        wanted = [spec.id_column, spec.time_column, spec.label_column, *spec.features]
        wanted += [LABEL_WINDOW_END, FEATURES_HASH_COLUMN, BUILD_COLUMN]
        missing = [c for c in wanted if c not in present]
        if missing:
            raise ModelingError(
                f"{SNAPSHOT_TABLE} lacks column(s) the manifest declares: {', '.join(missing)} "
                "(manifest and data are from different builds?)"
            )
        columns = ", ".join(quote_identifier(c) for c in wanted)
        # A fixed row order: samplers (bootstrap, subsampling) then see the same rows
        # in the same places, and the same data and seed give the same model.
        frame = con.execute(
            f"select {columns} from {SNAPSHOT_TABLE} where {where}"
            f" order by {quote_identifier(spec.time_column)}, {quote_identifier(spec.id_column)}"
        ).df()
    # One dtype per kind whatever the nulls in this batch: the dtypes the logged
    # model casts mart rows to (churn_pyfunc.mart_features), so fitting sees them too.
    features = mart_features(frame, list(spec.numeric), list(spec.categorical))
    frame[list(spec.features)] = features[list(spec.features)]
    frame[spec.time_column] = pd.to_datetime(frame[spec.time_column])
    frame[LABEL_WINDOW_END] = pd.to_datetime(frame[LABEL_WINDOW_END])
    return frame


def mart_rows(db_path: Path, columns: list[str], where: str, limit: int) -> pd.DataFrame:
    """A few of the mart's rows as a reader gets them (no casting): an MLflow input
    example that looks like what users will pass."""
    with connect_read_only(db_path) as con:
        selected = ", ".join(quote_identifier(c) for c in columns)
        query = f"select {selected} from {SNAPSHOT_TABLE} where {where} order by {selected}"
        return con.execute(f"{query} limit {limit}").df()


TRUTH_TABLE = "truth.churn_probability"  # the generator's ground truth, when published


def read_truth(db_path: Path, spec: FeatureSpec, as_of: list) -> pd.DataFrame | None:
    """The generator's true churn probability (column `p_no_completed_order`) of each
    customer at these as_of dates, or None for a warehouse without ground truth."""
    with connect_read_only(db_path) as con:
        if not table_columns(con, *TRUTH_TABLE.split(".")):
            return None
        dates = ", ".join(f"date '{pd.Timestamp(d).date().isoformat()}'" for d in as_of)
        frame = con.execute(
            f"select customer_id as {quote_identifier(spec.id_column)},"
            f" as_of as {quote_identifier(spec.time_column)}, p_no_completed_order"
            f" from {TRUTH_TABLE} where as_of in ({dates})"
        ).df()
    frame[spec.time_column] = pd.to_datetime(frame[spec.time_column])
    return frame


@dataclass(frozen=True)
class Split:
    """Selection parts (train, valid, test) and the refit parts: `refit`, every
    snapshot whose label window ends by the test as_of (train, the snapshots
    between train and validation, validation), and `complete`, every labeled
    snapshot (test included), for the model that is registered."""

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    refit: pd.DataFrame
    complete: pd.DataFrame

    def describe(self, time_column: str) -> dict[str, str | int]:
        def span(frame: pd.DataFrame) -> str:
            lo, hi = frame[time_column].min().date(), frame[time_column].max().date()
            return str(lo) if lo == hi else f"{lo}..{hi}"

        return {
            "train_as_of": span(self.train),
            "valid_as_of": span(self.valid),
            "test_as_of": span(self.test),
            "refit_as_of": span(self.refit),
            "complete_as_of": span(self.complete),
            "train_rows": len(self.train),
            "valid_rows": len(self.valid),
            "test_rows": len(self.test),
            "refit_rows": len(self.refit),
            "complete_rows": len(self.complete),
        }


def split_out_of_time(frame: pd.DataFrame, spec: FeatureSpec, test_snapshots: int = 1) -> Split:
    """Test: the latest `test_snapshots` labeled snapshots. Validation: the latest
    snapshot whose label window ends by the first test as_of. Train: snapshots whose
    label window ends by the validation as_of. So no training label looks at a day
    the validation or test features could see: the gaps keep the split honest. The
    refit part ends the same way before test: no refit label looks past the test
    as_of."""
    time, label = spec.time_column, spec.label_column
    labeled = frame[frame[label].notna()]
    dates = sorted(labeled[time].unique())
    if len(dates) < test_snapshots + 2:
        raise ModelingError(
            f"need at least {test_snapshots + 2} labeled snapshots (train, validation, test), "
            f"found {len(dates)}: generate a longer history or lower --test-snapshots"
        )
    test_start = dates[-test_snapshots]
    window_end = labeled.groupby(time)[LABEL_WINDOW_END].max()
    valid_candidates = [d for d in dates if window_end[d] <= test_start]
    if not valid_candidates:
        raise ModelingError(f"no labeled snapshot's window ends before the test as_of {test_start}")
    valid_date = valid_candidates[-1]
    train_dates = [d for d in dates if window_end[d] <= valid_date]
    split = Split(
        train=labeled[labeled[time].isin(train_dates)],
        valid=labeled[labeled[time] == valid_date],
        test=labeled[labeled[time] >= test_start],
        refit=labeled[labeled[time].isin([d for d in dates if window_end[d] <= test_start])],
        complete=labeled,
    )
    if split.train.empty:
        raise ModelingError(
            f"empty training set: no snapshot's label window ends by the validation as_of "
            f"{pd.Timestamp(valid_date).date()}; the history is too short for this split"
        )
    for part in ("train", "valid", "test"):
        classes = getattr(split, part)[label].nunique()
        if classes < 2:
            raise ModelingError(
                f"the {part} set has a single class of '{label}': the model cannot learn "
                "or be evaluated (too few customers, or every customer churned or stayed)"
            )
    return split
