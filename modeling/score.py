"""Score the latest snapshot with the champion model and write the risk table.

    python -m modeling.score [--model-version N] [--as-of YYYY-MM-DD] [--manifest PATH]

The model is the warehouse's own registered model (named after its identity)
unless --registered-model names another; a version trained on another warehouse
or on other features than the snapshot's is refused.

Writes the scores table the dbt project declares (source scoring.churn_scores,
created by `dbt build`); re-scoring the same as_of with the same model version
replaces its rows. Analysts read marts.customer_risk.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from duckdb import DuckDBPyConnection

from modeling import spark_marts
from modeling.churn_pyfunc import ChurnModel
from modeling.data import (
    BUILD_COLUMN,
    FEATURES_HASH_COLUMN,
    MART_SCHEMA,
    SNAPSHOT_TABLE,
    connect_read_only,
    marts_and_manifest,
    table_columns,
)
from modeling.errors import ModelingError, run_cli
from modeling.evaluation import CampaignEconomics
from modeling.lineage import WarehouseIdentity, read_identity
from modeling.manifest import DEFAULT_MANIFEST, SNAPSHOT_MODEL, FeatureSpec, Manifest, TableSpec
from modeling.registry import (
    CHAMPION,
    FEATURES_TAG,
    WAREHOUSE_TAG,
    RegisteredModel,
    load_registered,
    use_tracking_store,
)
from warehouse import published
from warehouse.cli import Parser, iso_date, number
from warehouse.database import all_or_nothing, quote_identifier, quote_literal
from warehouse.lock import writer_lock
from warehouse.spark import is_spark_warehouse

SCORES_SOURCE = ("scoring", "churn_scores")  # (dbt source, table): where scores are written
BATCH_ROWS = 250_000  # bounded memory whatever the number of customers


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line, checked: a bad option is a one-line usage error (exit 2)."""
    parser = Parser(prog="python -m modeling.score", description=__doc__.splitlines()[0])
    parser.add_db_option(spark=True)
    parser.add_argument(
        "--manifest",
        type=Path,
        help=f"dbt manifest (default: {DEFAULT_MANIFEST}; with --target spark, the Spark build's)",
    )
    parser.add_argument(
        "--registered-model",
        help="registered model to score with (default: the warehouse's, churn-<name>-<id>)",
    )
    parser.add_argument(
        "--model-version",
        type=number(int, 1),
        help=f"registered version to use (default: @{CHAMPION})",
    )
    parser.add_argument(
        "--as-of",
        type=iso_date,
        help="snapshot to score, YYYY-MM-DD (default: the latest, whose label is unknown)",
    )
    CampaignEconomics.add_arguments(parser)
    return parser.parse_args(argv)


def scoring_date(con: DuckDBPyConnection, as_of: date | None, time_column: str) -> pd.Timestamp:
    """The snapshot to score: `as_of` if the mart has it, else the latest."""
    column = quote_identifier(time_column)
    latest, found = con.execute(
        f"select max({column}), count(*) filter ({column} = ?) from {SNAPSHOT_TABLE}", [as_of]
    ).fetchone()
    if latest is None:
        raise ModelingError(f"{SNAPSHOT_TABLE} is empty: nothing to score")
    if as_of is None:
        return pd.Timestamp(latest)
    if found == 0:
        raise ModelingError(
            f"{SNAPSHOT_TABLE} has no snapshot at --as-of {as_of} (the latest is {latest})"
        )
    return pd.Timestamp(as_of)


def score_frame(
    model: ChurnModel,
    frame: pd.DataFrame,
    economics: CampaignEconomics,
    spec: FeatureSpec,
    name: str,
    version: str,
    scored_at: datetime,
) -> pd.DataFrame:
    """One batch of snapshot rows -> their scores (all columns but the decile)."""
    proba = model.churn_probability(frame)
    value = economics.customer_value(
        frame[economics.value_column].to_numpy(dtype="float64", na_value=np.nan)
    )
    expected = economics.expected_value(proba, value)
    return pd.DataFrame(
        {
            spec.id_column: frame[spec.id_column].to_numpy(),
            spec.time_column: frame[spec.time_column].to_numpy(),
            "churn_probability": proba,
            "customer_value": value,
            "expected_value_of_contact": expected,
            "recommended_action": np.where(expected > 0, "contact", "dont_contact"),
            "model_name": name,
            "model_version": version,
            "scored_at": scored_at,
        }
    )


def check_one_build(con: DuckDBPyConnection, as_of: pd.Timestamp, spec: FeatureSpec) -> str:
    """The features hash of the snapshot's rows, which come from one build of one
    feature definition (a published version is one build by construction; this
    refuses anything else)."""
    builds, hashes, features = con.execute(
        f"select count(distinct {BUILD_COLUMN}), count(distinct {FEATURES_HASH_COLUMN}),"
        f" any_value({FEATURES_HASH_COLUMN})"
        f" from {SNAPSHOT_TABLE} where {quote_identifier(spec.time_column)} = ?",
        [as_of.date()],
    ).fetchone()
    if builds > 1 or hashes > 1:
        raise ModelingError(
            f"the rows of {SNAPSHOT_TABLE} at {as_of.date()} come from {builds} builds and"
            f" {hashes} feature definitions, expected 1 of each: run `dbt build`"
        )
    return str(features)


def check_model_fits(
    registered: RegisteredModel, name: str, identity: WarehouseIdentity, features: str
) -> None:
    """Refuse a version trained on another warehouse or on other features than the
    snapshot's, in one line saying which."""
    trained_on = registered.tags.get(WAREHOUSE_TAG)
    where = f"{name} v{registered.version}"
    if trained_on != identity.id:
        raise ModelingError(
            f"{where} was trained on warehouse {trained_on or 'unknown'}, not this one"
            f" ({identity.id}): score with this warehouse's model (--registered-model"
            f" {identity.model_name}) or train one"
        )
    built_on = registered.tags.get(FEATURES_TAG)
    if built_on != features:
        raise ModelingError(
            f"{where} was trained on features {str(built_on)[:12]}, the snapshot was built by"
            f" features {features[:12]}: train a model on this build (python -m modeling.train)"
        )


def read_batches(
    con: DuckDBPyConnection, as_of: pd.Timestamp, columns: list[str], spec: FeatureSpec
) -> Iterator[pd.DataFrame]:
    """The snapshot's rows in batches, with the columns the model and economics need
    (as the mart types them: the model casts its inputs itself)."""
    present = set(table_columns(con, MART_SCHEMA, SNAPSHOT_MODEL))
    missing = [c for c in columns if c not in present]
    if missing:
        raise ModelingError(
            f"{SNAPSHOT_TABLE} lacks column(s) the model was trained on: {', '.join(missing)}"
        )
    selected = ", ".join(quote_identifier(c) for c in columns)
    # A literal, not a parameter: a parameterised query's Arrow reader copies the rows.
    reader = con.sql(
        f"select {selected} from {SNAPSHOT_TABLE}"
        f" where {quote_identifier(spec.time_column)}"
        f" = date {quote_literal(as_of.date().isoformat())}"
        f" order by {quote_identifier(spec.id_column)}"
    ).to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        yield batch.to_pandas()


def add_risk_decile(scores: pd.DataFrame) -> pd.DataFrame:
    """Decile 1 = the riskiest tenth; ranks first so that ties cannot empty a decile."""
    rank = scores["churn_probability"].rank(method="first", ascending=False)
    return scores.assign(risk_decile=np.ceil(rank * 10 / len(scores)).astype("int32"))


def conform(scores: pd.DataFrame, table: TableSpec) -> pd.DataFrame:
    """The scores in the declared column order; a ModelingError when the frame's
    columns are not exactly those the dbt project declares for the table."""
    missing = [c for c in table.columns if c not in scores.columns]
    extra = [c for c in scores.columns if c not in table.columns]
    if missing or extra:
        raise ModelingError(
            f"the scores do not match {table.relation} as the dbt manifest declares it"
            f" (missing: {', '.join(missing) or 'none'}; undeclared: {', '.join(extra) or 'none'}):"
            " update the source in dbt_project/models/marts/_scoring__sources.yml or modeling.score"
        )
    return scores[list(table.columns)]


def score(args: argparse.Namespace) -> dict:
    """Score one snapshot with one registered version and write the rows. The
    local inputs (warehouse, manifest, snapshot) are checked before the store."""
    db_path, manifest_path = marts_and_manifest(args)
    economics = CampaignEconomics.from_args(args)
    manifest = Manifest(manifest_path)
    spec = manifest.feature_spec()
    table = manifest.source_table(*SCORES_SOURCE)
    # One connection: one published version from the schedule to the last row.
    with connect_read_only(db_path) as con:
        if not table_columns(con, table.schema, table.name):
            raise ModelingError(f"table {table.relation} not found in {db_path}: run `dbt build`")
        as_of = scoring_date(con, args.as_of, spec.time_column)
        features = check_one_build(con, as_of, spec)
        identity = read_identity(con, db_path)
        name = args.registered_model or identity.model_name
        use_tracking_store()
        version = None if args.model_version is None else str(args.model_version)
        registered = load_registered(name, version)
        check_model_fits(registered, name, identity, features)
        model, version = registered.model, registered.version
        started = time.perf_counter()
        scored_at = datetime.now(timezone.utc).replace(tzinfo=None)
        needed = [spec.id_column, spec.time_column, economics.value_column]
        needed += model.numeric + model.categorical
        parts = [
            score_frame(model, frame, economics, spec, name, version, scored_at)
            for frame in read_batches(con, as_of, list(dict.fromkeys(needed)), spec)
        ]
    if not parts:
        raise ModelingError(f"no customers to score at {as_of.date()}")
    scores = conform(add_risk_decile(pd.concat(parts, ignore_index=True)), table)
    write_scores(db_path, scores, table, spec.time_column, as_of, name, version)
    elapsed = time.perf_counter() - started
    contact = int((scores["recommended_action"] == "contact").sum())
    print(
        f"scored {len(scores):,} customers at {as_of.date()} with {name} v{version} "
        f"in {elapsed:.1f} s: {contact:,} worth contacting "
        f"(expected value {scores['expected_value_of_contact'].clip(lower=0).sum():,.0f}); "
        "query marts.customer_risk"
    )
    return {"rows": len(scores), "as_of": as_of, "version": version, "seconds": elapsed}


def write_scores(
    db_path: Path,
    scores: pd.DataFrame,
    table: TableSpec,
    time_column: str,
    as_of: pd.Timestamp,
    name: str,
    version: str,
) -> None:
    """Replace this as_of's rows of this model version, all or nothing (a failure or
    SIGTERM leaves the previous scores), then publish them: a new version of the
    published marts with these scores and everything else as it was. The writer
    lock spans both, so no build publishes in between."""
    relation = f"{quote_identifier(table.schema)}.{quote_identifier(table.name)}"
    column = quote_identifier(time_column)
    if is_spark_warehouse(db_path):
        replaced = {time_column: as_of.date(), "model_name": name, "model_version": version}
        spark_marts.write_scores(db_path, scores, table.relation, replaced)
        return
    with writer_lock(db_path):
        with all_or_nothing(db_path) as con:
            con.execute(
                f"delete from {relation} where {column} = ? and model_name = ?"
                " and model_version = ?",
                [as_of.date(), name, version],
            )
            con.register("new_scores", scores)
            con.execute(
                f"insert into {relation} by name "
                f"select * replace (cast({column} as date) as {column}) from new_scores"
            )
        with all_or_nothing(db_path) as con:  # reads only: the committed scores
            try:
                published.republish(db_path, con, [table.relation])
            except published.PublishedError as error:
                raise ModelingError(str(error)) from None


def main(argv: list[str] | None = None) -> None:
    run_cli(lambda: score(parse_args(argv)))


if __name__ == "__main__":
    main()
