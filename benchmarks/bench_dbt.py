"""Full `dbt build` time and memory against the plain DuckDB limit.

For each customer count: generate a warehouse (1 % dirty rows), time one
grouped scan over all raw event tables in DuckDB (the floor any feature build
must pay: read every event once and aggregate per customer), then time the
full `dbt build` (every model, data test and unit test) with N monthly
snapshots. Then, at one size, rebuild with other snapshot counts.

    python benchmarks/bench_dbt.py                                  # the recorded run
    python benchmarks/bench_dbt.py --customers 20000 --snapshots 12 # quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from _conditions import machine, run_measured  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))
LAST_SNAPSHOT = date(2025, 12, 1)  # the generator's default data ends 2026-01-01
EVENT_TABLES = {  # raw table -> (event time, a numeric column to aggregate)
    "orders": ("ordered_at", "order_value"),
    "site_visits": ("visited_at", "session_seconds"),
    "loyalty_events": ("occurred_at", "points"),
    "reviews": ("reviewed_at", "rating"),
    "support_tickets": ("opened_at", "1"),
}


def grouped_scan_seconds(db: Path) -> float:
    """One pass over every raw event table, aggregated per customer, into a table."""
    union = "\nunion all\n".join(
        f"select customer_id, {at} as event_at, cast({value} as double) as value from raw.{table}"
        for table, (at, value) in EVENT_TABLES.items()
    )
    sql = f"""
        create or replace table main.bench_limit as
        select customer_id, count(*) as events, max(event_at) as last_at, sum(value) as total
        from ({union}) group by customer_id
    """
    with duckdb.connect(str(db)) as con:
        con.execute("set threads = 2")
        started = time.perf_counter()
        con.execute(sql)
        elapsed = time.perf_counter() - started
        con.execute("drop table main.bench_limit")
    return elapsed


def snapshot_vars(snapshots: int) -> str:
    month = LAST_SNAPSHOT.year * 12 + LAST_SNAPSHOT.month - 1 - (snapshots - 1)
    start = date(month // 12, month % 12 + 1, 1)
    return json.dumps({"snapshot_start": str(start), "snapshot_end": str(LAST_SNAPSHOT)})


def dbt_build(db: Path, snapshots: int, target: Path) -> tuple[float, float, str]:
    cmd = [DBT, "build", "--quiet", "--vars", snapshot_vars(snapshots)]
    cmd += ["--target-path", str(target), "--log-path", str(target / "logs")]
    elapsed, peak, _ = run_measured(cmd, env={"CHURN_DB_PATH": str(db)}, cwd=REPO)
    results = json.loads((target / "run_results.json").read_text())["results"]
    slowest = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:3]
    top = ", ".join(f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f}s" for r in slowest)
    tests = sum(
        r["execution_time"] for r in results if r["unique_id"].startswith(("test.", "unit_test."))
    )
    return elapsed, peak, f"{top} | tests {tests:.1f}s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--snapshots", type=int, nargs="+", default=[12, 6, 24])
    parser.add_argument(
        "--snapshot-scaling-at", type=int, default=300_000, help="customers for the extra counts"
    )
    args = parser.parse_args()
    profile = yaml.safe_load((REPO / "profiles.yml").read_text())["churn"]["outputs"]["dev"]
    threads = profile["threads"]
    print(f"dbt build benchmark on {machine()}, dbt threads {threads}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for customers in sorted(args.customers):
            db = work / f"wh_{customers}.duckdb"
            gen = [
                sys.executable,
                "-m",
                "seeds_gen",
                "--customers",
                str(customers),
                "--db",
                str(db),
            ]
            run_measured([*gen, "--dirty-rate", "0.01", "--quiet"])
            with duckdb.connect(str(db), read_only=True) as con:
                events = sum(
                    con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in EVENT_TABLES
                )
            limit = grouped_scan_seconds(db)
            counts = args.snapshots if customers == args.snapshot_scaling_at else args.snapshots[:1]
            for snapshots in counts:
                elapsed, peak, top = dbt_build(db, snapshots, work / f"target_{snapshots}")
                print(
                    f"{customers:>10,} customers {events / 1e6:5.1f} M events"
                    f" {snapshots:>3} snapshots"
                    f" | dbt build {elapsed:6.1f} s, peak RSS {peak:,.0f} MiB"
                    f" | grouped scan {limit:5.1f} s, ratio {elapsed / limit:4.1f}x"
                    f" | slowest: {top}",
                    flush=True,
                )
            db.unlink()


if __name__ == "__main__":
    main()
