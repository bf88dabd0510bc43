"""Readers and writers never block each other, and nothing is half-published
(warehouse.published, docs/publishing.md): readers held open or polling during
loads, builds and scoring; builds killed at several points; two builds at once.
The shop is the example export, loaded through the loader."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loader.cli import main as load
from modeling import score, train
from tests.dbt_runner import DBT, REPO, copy_warehouse, run_dbt
from warehouse import published
from warehouse.database import quote_literal

EXAMPLE = REPO / "examples" / "shop_export"
MARTS = ["marts.customer_snapshots", "marts.dim_customers", "marts.churn_summary_monthly"]

# One reader process: reads every published view until `stop` exists, checking
# that each read sees one complete version (every row of every view from the
# version's build); prints what it saw as JSON.
READER = r"""
import json, sys, time
from pathlib import Path
from warehouse import published
from warehouse.database import quote_literal

db, stop = Path(sys.argv[1]), Path(sys.argv[2])
versions, errors, reads = set(), [], 0
while True:
    last = stop.exists()
    try:
        with published.connect(db) as con:
            version = published.current_version(con)
            names = [n for (n,) in con.execute("select name from main.published_views").fetchall()]
            builds = set()
            for name in names:
                sql = f"select distinct build_id from {name}"
                builds |= {b for (b,) in con.execute(sql).fetchall()}
            rows = con.execute("select count(*) from marts.customer_snapshots").fetchone()[0]
        if builds != {version.build_id} or rows == 0:
            errors.append(f"{version.version}: builds {sorted(builds)}, {rows} snapshot rows")
        versions.add(version.version)
        reads += 1
    except Exception as error:
        errors.append(f"{type(error).__name__}: {error}")
    if last:
        break
    time.sleep(2)  # twenty of these on two cores still leave the build most of them
print(json.dumps({"versions": sorted(versions), "errors": errors, "reads": reads}))
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    """The example shop, loaded and built (published) once; tests copy it."""
    root = tmp_path_factory.mktemp("shop")
    db = root / "warehouse.duckdb"
    assert load([str(EXAMPLE / "mapping.yml"), "--db", str(db), "--quiet"]) == 0
    run_dbt(["build"], db, root / "target")
    return db


def published_state(db: Path) -> tuple[str, str, dict[str, int]]:
    """(version, build id, rows per mart) of the published marts, checking that every
    row of every mart comes from the version's build."""
    with published.connect(db) as con:
        version = published.current_version(con)
        rows = {}
        for mart in MARTS:
            builds = con.execute(f"select distinct build_id from {mart}").fetchall()
            assert builds == [(version.build_id,)], (mart, builds)
            rows[mart] = con.execute(f"select count(*) from {mart}").fetchone()[0]
    return version.version, version.build_id, rows


def start_build(db: Path, target: Path) -> subprocess.Popen:
    """`dbt build` in the background, its output in `target`/output.txt."""
    env = {**os.environ, "CHURN_DB_PATH": str(db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    target.mkdir(parents=True)
    with open(target / "output.txt", "w") as output:
        return subprocess.Popen(
            [DBT, "build", "--target-path", str(target), "--log-path", str(target / "logs")],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_until(condition, process: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the build ended before {what}"
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.01)


def locked(db: Path) -> bool:
    """Whether a writer holds the warehouse's writer lock (warehouse.lock)."""
    fd = os.open(db, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_a_reader_held_open_never_stops_a_load_a_build_or_scoring(shop, tmp_path, mlflow_store):
    db = copy_warehouse(shop, tmp_path / "warehouse.duckdb")
    before = published_state(db)
    reader = published.connect(db)  # a notebook's connection, left open throughout
    try:
        # A load (the same export again: every row a duplicate), a build, a training
        # run and a scoring run, all while the reader is open.
        assert load([str(EXAMPLE / "mapping.yml"), "--db", str(db), "--quiet"]) == 0
        run_dbt(["build"], db, tmp_path / "target")
        argv = ["--db", str(db), "--manifest", str(tmp_path / "target" / "manifest.json")]
        train.train(train.parse_args([*argv, "--models", "logistic_regression"]))
        score.score(score.parse_args(argv))

        # The open reader still sees the version it opened, whole.
        assert published.current_version(reader).version == before[0]
        assert (
            reader.execute("select count(*) from marts.customer_snapshots").fetchone()[0]
            == (before[2]["marts.customer_snapshots"])
        )
    finally:
        reader.close()
    version, build, rows = published_state(db)
    assert build != before[1] and rows == before[2]  # a duplicate export adds nothing
    with published.connect(db) as con:
        risk = con.execute("select count(*), any_value(build_id) from marts.customer_risk")
        assert risk.fetchone() == (
            con.execute("select count(*) from scoring.churn_scores").fetchone()[0],
            build,
        )


def test_a_build_killed_anywhere_leaves_the_published_version_intact(shop, tmp_path):
    """kill -9 after staging, after customer_snapshots and while publishing: each
    time the published version is the one before, whole; the next build recovers,
    publishes, and removes the killed publish's files."""
    db = copy_warehouse(shop, tmp_path / "warehouse.duckdb")
    before = published_state(db)
    existing = set(published.versions_dir(db).iterdir())
    for attempt, kill_at in enumerate(
        [
            "OK created sql view model staging.stg_shop__orders",
            "OK created sql incremental model marts.customer_snapshots",
            "publishing",
        ]
    ):
        target = tmp_path / f"killed{attempt}"
        build = start_build(db, target)
        try:
            if kill_at == "publishing":  # the new version's folder appears
                wait_until(
                    lambda: set(published.versions_dir(db).iterdir()) - existing, build, kill_at
                )
            else:
                output = target / "output.txt"
                wait_until(lambda o=output, k=kill_at: k in o.read_text(), build, kill_at)
        finally:
            build.send_signal(signal.SIGKILL)
            build.wait()
        assert published_state(db) == before, kill_at

    recovery = run_dbt(["build"], db, tmp_path / "target")
    # The working tables may hold part of a killed run: the next build rebuilds in full.
    assert "refresh: full rebuild: a run started at" in recovery.stdout
    after = published_state(db)
    assert after[1] != before[1] and after[2] == before[2]
    kept = {published.version_folder(f) for entry in published.read_log(db) for f in entry["files"]}
    left = {p.name for p in published.versions_dir(db).iterdir()}
    assert left == kept | {published.VERSION_LOG}


def test_a_failed_or_partial_build_publishes_nothing(shop, tmp_path):
    db = copy_warehouse(shop, tmp_path / "warehouse.duckdb")
    before = published_state(db)
    # A schedule over max_snapshots stops the spine model; everything after it skips.
    failed = run_dbt(["build"], db, tmp_path / "failed", vars_={"max_snapshots": 2}, check=False)
    assert failed.returncode == 1
    assert "marts not published: " in failed.stdout and "did not pass" in failed.stdout
    assert published_state(db) == before
    partial = run_dbt(["build", "--select", "customer_snapshots"], db, tmp_path / "partial")
    assert "marts not published: this run did not build and test every model" in partial.stdout
    assert published_state(db) == before
    # Neither recorded a complete build: the next one rebuilds in full and says why.
    after_partial = run_dbt(["build"], db, tmp_path / "next")
    assert "refresh: full rebuild: a run started at" in after_partial.stdout


def test_two_builds_at_once_while_twenty_readers_poll(shop, tmp_path):
    """The second build waits for the first (and says so), both succeed, the later
    one is published last; twenty reader processes polling all along never fail
    and each read sees one whole version."""
    db = copy_warehouse(shop, tmp_path / "warehouse.duckdb")
    before = published_state(db)
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, db, stop], stdout=subprocess.PIPE, text=True
        )
        for _ in range(20)
    ]
    try:
        first = start_build(db, tmp_path / "first")
        wait_until(lambda: locked(db), first, "writer lock")
        second = run_dbt(["build"], db, tmp_path / "second", check=False)
        assert first.wait() == 0, (tmp_path / "first" / "output.txt").read_text()[-3000:]
    finally:
        stop.touch()
        reports = [json.loads(reader.communicate(timeout=120)[0]) for reader in readers]
    assert second.returncode == 0, second.stdout[-3000:]
    assert f"waiting for another writer of {db}" in second.stdout + second.stderr
    after = published_state(db)
    second_build = json.loads((tmp_path / "second" / "run_results.json").read_text())
    assert after[1] == second_build["metadata"]["invocation_id"]  # the later build, last

    assert [r["errors"] for r in reports] == [[]] * 20
    assert all(r["reads"] >= 2 for r in reports)
    seen = {v for r in reports for v in r["versions"]}
    assert {before[0], after[0]} <= seen and len(seen) <= 3  # before, the first's, the second's


def test_analysts_query_the_published_marts_with_the_duckdb_shell_and_warehouse_sql(shop):
    """The README's analyst commands: the DuckDB shell installed with the project
    (an older DuckDB than the library: the catalog is written in a format it
    reads) and `python -m warehouse.sql`."""
    _, build, rows = published_state(shop)
    sql = "select count(*) as n, any_value(build_id) as build from marts.customer_snapshots"
    shell = subprocess.run(
        [
            Path(sys.executable).with_name("duckdb"),
            "-readonly",
            "-csv",
            "-noheader",
            published.catalog_path(shop),
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shell.stdout.strip() == f"{rows['marts.customer_snapshots']},{build}"
    ours = subprocess.run(
        [sys.executable, "-m", "warehouse.sql", "--db", shop, "-c", sql],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    assert str(rows["marts.customer_snapshots"]) in ours.stdout and build in ours.stdout


def test_the_published_marts_are_the_built_tables_row_for_row_and_type_for_type(shop):
    """Parquet and back loses nothing: every published mart equals its table in the
    working warehouse (EXCEPT ALL both ways), with the same column types."""
    with published.connect(shop) as con:
        con.execute(f"attach {quote_literal(shop)} as working (read_only)")
        for mart in [*MARTS, "marts.quarantined_rows", "scoring.churn_scores"]:
            schema, name = mart.split(".")
            types = {
                where: con.execute(
                    "select column_name, data_type from information_schema.columns"
                    " where table_catalog = ? and table_schema = ? and table_name = ?"
                    " and column_name <> 'build_id' order by ordinal_position",
                    [where, schema, name],
                ).fetchall()
                for where in ("published", "working")
            }
            assert types["published"] == types["working"] != [], mart
            columns = ", ".join(f'"{c}"' for c, _ in types["working"])
            for left, right in [("published", "working"), ("working", "published")]:
                extra = con.execute(
                    f"select count(*) from (select {columns} from {left}.{mart}"
                    f" except all select {columns} from {right}.{mart})"
                ).fetchone()[0]
                assert extra == 0, (mart, left, right)
