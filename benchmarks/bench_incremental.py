"""Incremental refresh: a daily `dbt build` against the full build, in one run.

Generates a shop, loads every raw row landed before its last day and builds
it in full (the first build), then appends the rows of the last day (a daily
load, about 1/730 of a two-year history) and builds again: an incremental
refresh (docs/incremental.md). Then `dbt build --full-refresh` on the same
data. Prints each build's wall time and peak memory, where the refresh spends
its time (run_results.json: dbt's own overhead, the slowest nodes, the data
tests, the publish), and the ratio refresh / full build.

    python benchmarks/bench_incremental.py --customers 1000000
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from _conditions import machine, run_measured  # noqa: E402
from bench_dbt import DBT, REPO  # noqa: E402

RAW_TABLES = ["customers", "orders", "site_visits", "loyalty_events", "reviews", "support_tickets"]


def build(db: Path, target: Path, start: str, *extra: str) -> dict:
    cmd = [DBT, "build", *extra, "--vars", json.dumps({"snapshot_start": start})]
    cmd += ["--target-path", str(target), "--log-path", str(target / "logs")]
    elapsed, peak, out = run_measured(cmd, env={"CHURN_DB_PATH": str(db)}, cwd=REPO)
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = sum(r["execution_time"] for r in results)
    slowest = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:4]
    return {
        "seconds": elapsed,
        "peak_gib": peak / 1024,
        "line": re.search(r"refresh: .*", out).group(0)[:160],
        "nodes": nodes,
        "tests": sum(
            r["execution_time"]
            for r in results
            if r["unique_id"].startswith(("test.", "unit_test."))
        ),
        "publish": next(r["execution_time"] for r in results if "on-run-end" in r["unique_id"]),
        "slowest": ", ".join(
            f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f} s" for r in slowest
        ),
    }


def report(name: str, run: dict) -> None:
    print(
        f"  {name}: {run['seconds']:.1f} s, peak {run['peak_gib']:.1f} GiB; nodes"
        f" {run['nodes']:.1f} s (tests {run['tests']:.1f} s, publish {run['publish']:.1f} s),"
        f" dbt's own overhead {run['seconds'] - run['nodes']:.1f} s"
    )
    print(f"    slowest: {run['slowest']}")
    print(f"    {run['line']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--snapshot-start", default="2025-02-01", help="first monthly snapshot (var snapshot_start)"
    )
    args = parser.parse_args()
    print(
        f"incremental: {args.customers:,} customers, monthly snapshots from"
        f" {args.snapshot_start} + the current one, on {machine()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        landed, db = Path(tmp) / "landed.duckdb", Path(tmp) / "warehouse.duckdb"
        generate = [sys.executable, "-m", "seeds_gen", "--customers", str(args.customers)]
        run_measured([*generate, "--db", str(landed), "--quiet"])
        with duckdb.connect(str(db)) as con:
            con.execute(f"attach '{landed}' as landed (read_only)")
            last_day = con.execute(
                "select cast(max(_loaded_at) as date) from landed.raw.orders"
            ).fetchone()[0]
            con.execute("create schema raw")
            for table in RAW_TABLES:
                con.execute(
                    f"create table raw.{table} as select * from landed.raw.{table}"
                    f" where _loaded_at is null or _loaded_at < date '{last_day}' order by rowid"
                )
        first = build(db, Path(tmp) / "first", args.snapshot_start)
        with duckdb.connect(str(db)) as con:
            con.execute(f"attach '{landed}' as landed (read_only)")
            before = sum(
                con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in RAW_TABLES
            )
            added = 0
            for table in RAW_TABLES:
                added += con.execute(
                    f"insert into raw.{table} select * from landed.raw.{table}"
                    f" where _loaded_at >= date '{last_day}' order by rowid"
                ).fetchone()[0]
        refresh = build(db, Path(tmp) / "refresh", args.snapshot_start)
        full = build(db, Path(tmp) / "full", args.snapshot_start, "--full-refresh")

    print(
        f"  history: {before:,} raw rows loaded before {last_day}; the daily load:"
        f" {added:,} rows ({added / before:.3%} of the history)"
    )
    report("first build (full)", first)
    report("incremental refresh after the daily load", refresh)
    report("dbt build --full-refresh, same data", full)
    print(
        f"  refresh / full rebuild: {refresh['seconds'] / full['seconds']:.1%}"
        f" (refresh / first build: {refresh['seconds'] / first['seconds']:.1%})"
    )


if __name__ == "__main__":
    main()
