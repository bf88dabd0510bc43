"""The same dbt project on Spark (docs/spark.md): a small dirty shop, with late
arrivals and ids written in odd ways, built on DuckDB and on a local Spark
session gives the same marts, column by column; training and scoring then run
on the Spark marts, and the scores reach marts.customer_risk there.

One Spark build for the module (about 3 minutes on 2 cores: the JVM, every
model, data test and unit test). Skipped only when Java is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from featurestore.parity import compare_marts
from tests.conftest import make_warehouse
from tests.dbt_runner import REPO, run_dbt
from warehouse.ids import normalize_id
from warehouse.lineage import features_sha256
from warehouse.spark import LAST_BUILD_FILE, NO_JAVA, java_available

pytestmark = pytest.mark.skipif(not java_available(), reason=NO_JAVA)

# Ids as shops write them: each variant normalises to the plain id (customers
# must not split), and the odd ones must survive as they are on both engines
# (Spark unescapes backslashes in SQL literals; its regexp_replace has no 'g').
VARIANTS = ["\u200b{id}", " {id}\t", "\uff23{tail}", "{id}\u00a0"]
ODD_IDS = ["C\\x21-back\\slash", "C'quote\"s", "Ren\u00e9-e\u0301", "C[\\]^_`{|}~"]


def add_odd_ids(db: Path) -> list[str]:
    """Orders of known customers under variant ids, and customers with odd ids
    (with an order each): appended raw rows, as a second export would bring."""
    with duckdb.connect(str(db)) as con:
        rows = con.execute("select customer_id from raw.customers order by rowid limit 4")
        known = [row[0] for row in rows.fetchall()]
        for number, (customer, variant) in enumerate(zip(known, VARIANTS, strict=True)):
            written = variant.format(id=customer, tail=customer[1:])
            con.execute(
                "insert into raw.orders select * replace (order_id || ? as order_id,"
                " ? as customer_id) from raw.orders where customer_id = ? limit 2",
                [f"-variant{number}", written, customer],
            )
        template = known[0]
        for number, odd in enumerate(ODD_IDS):
            con.execute(
                "insert into raw.customers select * replace (? as customer_id)"
                " from raw.customers where customer_id = ? limit 1",
                [odd, template],
            )
            con.execute(
                "insert into raw.orders select * replace (order_id || ? as order_id,"
                " ? as customer_id) from raw.orders where customer_id = ? limit 3",
                [f"-odd{number}", odd, template],
            )
    return known


def python(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, (
        f"{' '.join(args)}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    return result


@pytest.fixture(scope="module")
def both_builds(tmp_path_factory) -> tuple[Path, Path]:
    """(DuckDB warehouse, Spark warehouse folder), each built from the same raw rows."""
    root = tmp_path_factory.mktemp("spark")
    db = make_warehouse(root / "warehouse.duckdb", customers=2000, dirty_rate=0.03, seed=5)
    add_odd_ids(db)
    run_dbt(["build"], db, root / "target")
    folder = root / "spark"
    python(
        "-m",
        "featurestore.spark",
        "build",
        "--spark-dir",
        str(folder),
        "--raw-from",
        str(db),
        cwd=REPO,
    )
    return db, folder


def test_every_mart_column_equals_duckdbs(both_builds):
    db, folder = both_builds
    parities = compare_marts(db, folder / "warehouse")
    assert [p.describe() for p in parities if not p.equal] == []
    assert all(p.rows[0] > 0 for p in parities)


def test_odd_ids_survive_and_variants_join_their_customer(both_builds):
    db, _ = both_builds
    with duckdb.connect(str(db), read_only=True) as con:
        ids = {r[0] for r in con.execute("select customer_id from marts.dim_customers").fetchall()}
        variants = con.execute(
            "select count(*) from marts.quarantined_rows where row_id like '%-variant%'"
        ).fetchone()[0]
    assert {normalize_id(odd) for odd in ODD_IDS} <= ids  # NFC composes the accent
    assert variants == 0  # every variant id found its customer (on both: parity)


def test_each_engine_stamps_the_hash_of_its_own_manifest(both_builds):
    _, folder = both_builds
    manifest = json.loads((folder / "target" / "manifest.json").read_text())
    recorded = json.loads((folder / LAST_BUILD_FILE).read_text())
    stamped = duckdb.sql(
        "select distinct features_sha256 from read_parquet("
        f"'{folder}/warehouse/marts.db/customer_snapshots/**/*.parquet')"
    ).fetchall()
    assert stamped == [(features_sha256(manifest),)] == [(recorded["features_sha256"],)]


def test_training_and_scoring_run_on_the_spark_marts(both_builds, tmp_path):
    db, folder = both_builds
    store = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    spark = ("--target", "spark", "--spark-dir", str(folder))
    trained = python(
        "-m", "modeling.train", *spark, "--models", "logistic_regression", cwd=tmp_path, **store
    )
    assert "registered as churn-spark-" in trained.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        latest, earlier = con.execute(
            "select as_of, count(*) from marts.customer_snapshots group by as_of"
            " order by as_of desc limit 2"
        ).fetchall()
        customers = con.execute(
            "select count(distinct customer_id) from marts.customer_snapshots"
            " where as_of in (?, ?)",
            [latest[0], earlier[0]],
        ).fetchone()[0]
    # The latest snapshot, an earlier one, then the latest again: a re-score
    # replaces its own rows and keeps the others.
    for as_of in (latest[0], earlier[0], latest[0]):
        scored = python(
            "-m", "modeling.score", *spark, "--as-of", str(as_of), cwd=tmp_path, **store
        )
        assert (
            f"scored {latest[1] if as_of == latest[0] else earlier[1]:,} customers" in scored.stdout
        )
    counts = python(
        "-c",
        "import sys; from pathlib import Path; from warehouse.spark import session;"
        " spark = session(Path(sys.argv[1]));"
        " print(spark.sql('select count(*) from scoring.churn_scores').collect()[0][0],"
        " spark.sql('select count(*) from marts.customer_risk').collect()[0][0])",
        str(folder),
        cwd=tmp_path,
    )
    # Every score row once; customer_risk: each customer's latest score.
    assert counts.stdout.split()[-2:] == [str(latest[1] + earlier[1]), str(customers)]
