"""The same feature store on local Spark and on DuckDB: wall time and peak memory.

For each customer count: generate a warehouse (1 % dirty rows), run the full
`dbt build` on DuckDB, then `python -m featurestore.spark build --raw-from`
(copy the raw tables to Parquet, start Spark, build every model, data test and
unit test), 12 monthly snapshots ending 2025-12-01 on both. Peak memory is
the whole process tree's resident memory (Spark's JVM is a child of Python),
sampled every 0.2 s. Per-stage costs come from each build's run_results.json:
the slowest models, the summed tests, and on Spark the start-up and raw copy.

    python benchmarks/bench_spark.py                     # the recorded run
    python benchmarks/bench_spark.py --customers 20000   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _conditions import machine  # noqa: E402
from bench_dbt import snapshot_vars  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, MiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += rss.get(current, 0)
        pending += children.get(current, [])
    return total / 2**20


def run_tree_measured(cmd: list[str], env: dict, cwd: Path) -> tuple[float, float, str]:
    """Run cmd; (wall seconds, peak RSS of its process tree in MiB, stdout)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, tree_rss_mib(process.pid))
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        out.seek(0)
        output = out.read()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{output[-4000:]}")
    return elapsed, peak, output


def stages(target: Path) -> str:
    results = json.loads((target / "run_results.json").read_text())["results"]
    models = [r for r in results if r["unique_id"].startswith("model.")]
    slowest = sorted(models, key=lambda r: r["execution_time"], reverse=True)[:3]
    top = ", ".join(f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f}s" for r in slowest)
    modeled = sum(r["execution_time"] for r in models)
    tests = sum(
        r["execution_time"] for r in results if r["unique_id"].startswith(("test.", "unit_test."))
    )
    return f"models {modeled:.0f} s (slowest: {top}), tests {tests:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--driver-memory", default="12g", help="Spark's heap (default 12g)")
    args = parser.parse_args()
    print(f"Spark vs DuckDB build on {machine()}, dbt threads 1, 12 snapshots", flush=True)
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for customers in sorted(args.customers):
            db = work / f"wh_{customers}.duckdb"
            gen = [sys.executable, "-m", "seeds_gen", "--customers", str(customers)]
            subprocess.run([*gen, "--db", str(db), "--dirty-rate", "0.01", "--quiet"], check=True)
            vars_ = ["--vars", snapshot_vars(12)]
            duck_target = work / f"duck_{customers}"
            duck = [DBT, "build", "--quiet", *vars_, "--target-path", str(duck_target)]
            duck += ["--log-path", str(duck_target / "logs")]
            d_wall, d_peak, _ = run_tree_measured(duck, {**env, "CHURN_DB_PATH": str(db)}, REPO)
            print(
                f"{customers:>10,} customers | DuckDB: {d_wall:7.1f} s, peak {d_peak / 1024:5.1f}"
                f" GiB | {stages(duck_target)}",
                flush=True,
            )
            folder = work / f"spark_{customers}"
            spark = [
                sys.executable,
                "-m",
                "featurestore.spark",
                "build",
                "--spark-dir",
                str(folder),
            ]
            spark += ["--raw-from", str(db), "--driver-memory", args.driver_memory, "--", *vars_]
            s_wall, s_peak, output = run_tree_measured(spark, env, REPO)
            phases = [line for line in output.splitlines() if line.startswith("spark build:")]
            print(
                f"{customers:>10,} customers | Spark:  {s_wall:7.1f} s, peak {s_peak / 1024:5.1f}"
                f" GiB | {stages(folder / 'target')} | {phases[-1] if phases else ''}"
                f" | Spark / DuckDB {s_wall / d_wall:.1f}x",
                flush=True,
            )
            db.unlink()


if __name__ == "__main__":
    main()
