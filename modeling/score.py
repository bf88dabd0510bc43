"""Score the latest snapshot with the champion model and write the risk table.

    python -m modeling.score [--model-version N] [--as-of YYYY-MM-DD]

Writes scoring.churn_scores (created by `dbt build`); re-scoring the same as_of
with the same model version replaces its rows. Analysts read marts.customer_risk.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

import duckdb
import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from modeling.data import SNAPSHOT_TABLE, connect_read_only, table_columns
from modeling.errors import ModelingError, run_cli
from modeling.evaluation import CampaignEconomics
from modeling.registry import CHAMPION, REGISTERED_MODEL
from modeling.train import use_tracking_store
from seeds_gen.cliutil import Parser
from seeds_gen.warehouse import resolve_db_path

SCORES_SCHEMA, SCORES_TABLE = "scoring", "churn_scores"
ID_COLUMN, TIME_COLUMN = "customer_id", "as_of"
BATCH_ROWS = 250_000  # bounded memory whatever the number of customers


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m modeling.score", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="warehouse (default: $CHURN_DB_PATH or data/warehouse.duckdb)")
    parser.add_argument("--model-version", help=f"registered version to use (default: @{CHAMPION})")
    parser.add_argument(
        "--as-of", help="snapshot to score (default: the latest, whose label is unknown)"
    )
    CampaignEconomics.add_arguments(parser)
    return parser.parse_args(argv)


def load_model(version: str | None):
    """The registered model, its version, and the input columns of its signature
    (what it was trained on, which may differ from today's manifest)."""
    client = mlflow.MlflowClient()
    wanted = f"version {version}" if version else f"alias @{CHAMPION}"
    try:
        if version is None:
            version = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION).version
        else:
            client.get_model_version(REGISTERED_MODEL, version)
        uri = f"models:/{REGISTERED_MODEL}/{version}"
        model = mlflow.sklearn.load_model(uri)
        inputs = mlflow.models.get_model_info(uri).signature.inputs.input_names()
    except MlflowException:
        raise ModelingError(
            f"no registered model {REGISTERED_MODEL} with {wanted}: run `python -m modeling.train`"
        ) from None
    return model, str(version), inputs


def scoring_date(con: duckdb.DuckDBPyConnection, as_of: str | None) -> pd.Timestamp:
    if as_of is None:
        found = con.execute(f"select max({TIME_COLUMN}) from {SNAPSHOT_TABLE}").fetchone()[0]
        if found is None:
            raise ModelingError(f"{SNAPSHOT_TABLE} is empty: nothing to score")
        return pd.Timestamp(found)
    try:
        wanted = pd.Timestamp(as_of)
    except ValueError:
        raise ModelingError(f"--as-of {as_of!r} is not a date") from None
    rows = con.execute(
        f"select count(*) from {SNAPSHOT_TABLE} where {TIME_COLUMN} = ?", [wanted.date()]
    ).fetchone()[0]
    if rows == 0:
        raise ModelingError(f"{SNAPSHOT_TABLE} has no snapshot at {wanted.date()}")
    return wanted


def score_frame(
    model, inputs: list[str], frame: pd.DataFrame, economics, version: str, scored_at: datetime
) -> pd.DataFrame:
    proba = model.predict_proba(frame[inputs])[:, 1]
    value = economics.customer_value(frame[economics.value_column].to_numpy())
    expected = economics.expected_value(proba, value)
    return pd.DataFrame(
        {
            ID_COLUMN: frame[ID_COLUMN].to_numpy(),
            TIME_COLUMN: frame[TIME_COLUMN].to_numpy(),
            "churn_probability": proba,
            "customer_value": value,
            "expected_value_of_contact": expected,
            "recommended_action": np.where(expected > 0, "contact", "dont_contact"),
            "model_name": REGISTERED_MODEL,
            "model_version": version,
            "scored_at": scored_at,
        }
    )


def read_batches(db_path, as_of: pd.Timestamp, columns: list[str]):
    """The snapshot's rows in batches, with the columns the model and economics need."""
    with connect_read_only(db_path) as con:
        present = set(table_columns(con, "marts", "customer_snapshots"))
        missing = [c for c in columns if c not in present]
        if missing:
            raise ModelingError(
                f"{SNAPSHOT_TABLE} lacks column(s) the model was trained on: {', '.join(missing)}"
            )
        selected = ", ".join(f'"{c}"' for c in columns)
        # A literal, not a parameter: a parameterised query's Arrow reader copies the rows.
        reader = con.sql(
            f"select {selected} from {SNAPSHOT_TABLE}"
            f" where {TIME_COLUMN} = date '{as_of.date().isoformat()}' order by {ID_COLUMN}"
        ).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            yield batch.to_pandas()


def score(args: argparse.Namespace) -> dict:
    use_tracking_store()
    db_path = resolve_db_path(args.db)
    economics = CampaignEconomics.from_args(args)
    model, version, inputs = load_model(args.model_version)
    with connect_read_only(db_path) as con:
        if not table_columns(con, SCORES_SCHEMA, SCORES_TABLE):
            raise ModelingError(
                f"table {SCORES_SCHEMA}.{SCORES_TABLE} not found in {db_path}: run `dbt build`"
            )
        as_of = scoring_date(con, args.as_of)
    started = time.perf_counter()
    scored_at = datetime.now(timezone.utc).replace(tzinfo=None)
    needed = list(dict.fromkeys([ID_COLUMN, TIME_COLUMN, economics.value_column]))
    needed += [c for c in inputs if c not in needed]
    parts = []
    for frame in read_batches(db_path, as_of, needed):
        # Numbers as float64, as in training (bool and nullable ints included).
        numeric = [
            c
            for c in frame.columns
            if c not in (ID_COLUMN, TIME_COLUMN) and pd.api.types.is_numeric_dtype(frame[c])
        ]
        frame[numeric] = frame[numeric].astype("float64")
        parts.append(score_frame(model, inputs, frame, economics, version, scored_at))
    if not parts:
        raise ModelingError(f"no customers to score at {as_of.date()}")
    scores = pd.concat(parts, ignore_index=True)
    # Decile 1 = the riskiest tenth; ranks first so that ties cannot empty a decile.
    rank = scores["churn_probability"].rank(method="first", ascending=False)
    scores.insert(3, "risk_decile", np.ceil(rank * 10 / len(scores)).astype("int32"))
    write_scores(db_path, scores, as_of, version)
    elapsed = time.perf_counter() - started
    contact = int((scores["recommended_action"] == "contact").sum())
    print(
        f"scored {len(scores):,} customers at {as_of.date()} with {REGISTERED_MODEL} v{version} "
        f"in {elapsed:.1f} s: {contact:,} worth contacting "
        f"(expected value {scores['expected_value_of_contact'].clip(lower=0).sum():,.0f}); "
        "query marts.customer_risk"
    )
    return {"rows": len(scores), "as_of": as_of, "version": version, "seconds": elapsed}


def write_scores(db_path, scores: pd.DataFrame, as_of: pd.Timestamp, version: str) -> None:
    """Replace this as_of's rows of this model version, in one transaction."""
    with duckdb.connect(str(db_path)) as con:
        con.execute("begin transaction")
        con.execute(
            f"delete from {SCORES_SCHEMA}.{SCORES_TABLE} "
            "where as_of = ? and model_name = ? and model_version = ?",
            [as_of.date(), REGISTERED_MODEL, version],
        )
        con.register("new_scores", scores)
        con.execute(
            f"insert into {SCORES_SCHEMA}.{SCORES_TABLE} by name "
            "select * replace (cast(as_of as date) as as_of) from new_scores"
        )
        con.execute("commit")


def main(argv: list[str] | None = None) -> None:
    run_cli(lambda: score(parse_args(argv)))


if __name__ == "__main__":
    main()
