"""Publishing: what it costs a `dbt build`, and what readers see during one.

Generates a shop, builds it once (the first publish), then builds it again
while reader processes poll the published marts (warehouse.published) every
`--poll` seconds. Prints the build time, the publish step's time (the
on-run-end hook, from run_results.json), the disk a published version takes,
and for the readers: reads, errors, the seconds they could not read (blocked)
and their slowest read.

    python benchmarks/bench_publish.py --customers 1000000
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
from _conditions import machine, run_measured  # noqa: E402
from bench_dbt import DBT, REPO, snapshot_vars  # noqa: E402

from warehouse import published  # noqa: E402

# A reader: open the published marts, count the snapshots of the latest as_of,
# close; until `stop` exists. Prints reads, errors, blocked seconds, slowest read.
READER = r"""
import json, sys, time
from pathlib import Path
from warehouse import published
db, stop, poll = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
reads, errors, blocked, slowest, versions = 0, [], 0.0, 0.0, set()
while not stop.exists():
    started = time.perf_counter()
    try:
        with published.connect(db) as con:
            versions.add(published.current_version(con).version)
            con.execute("select count(*) from marts.customer_snapshots where as_of ="
                        " (select max(as_of) from marts.churn_summary_monthly)").fetchall()
        reads += 1
    except Exception as error:
        errors.append(str(error).splitlines()[0])
        blocked += time.perf_counter() - started + poll
    slowest = max(slowest, time.perf_counter() - started)
    time.sleep(poll)
print(json.dumps({"reads": reads, "errors": errors, "blocked": blocked, "slowest": slowest,
                  "versions": len(versions)}))
"""


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def build(db: Path, target: Path, snapshots: int) -> tuple[float, float]:
    """(wall seconds, publish hook seconds) of one full `dbt build`."""
    cmd = [DBT, "build", "--quiet", "--vars", snapshot_vars(snapshots)]
    cmd += ["--target-path", str(target), "--log-path", str(target / "logs")]
    elapsed, _, _ = run_measured(cmd, env={"CHURN_DB_PATH": str(db)}, cwd=REPO)
    results = json.loads((target / "run_results.json").read_text())["results"]
    hook = next(r for r in results if "on-run-end" in r["unique_id"])
    return elapsed, hook["execution_time"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--snapshots", type=int, default=12)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--poll", type=float, default=0.2, help="seconds between a reader's reads")
    args = parser.parse_args()
    print(
        f"publish: {args.customers:,} customers, {args.snapshots} monthly snapshots + current,"
        f" {args.readers} readers every {args.poll} s, on {machine()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        generate = [sys.executable, "-m", "seeds_gen", "--customers", str(args.customers)]
        run_measured([*generate, "--db", str(db), "--quiet"])
        first, first_hook = build(db, Path(tmp) / "first", args.snapshots)
        print(f"  first build {first:.1f} s, of which publish {first_hook:.1f} s")

        stop = Path(tmp) / "stop"
        readers = [
            subprocess.Popen(
                [sys.executable, "-c", READER, str(db), str(stop), str(args.poll)],
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )
            for _ in range(args.readers)
        ]
        time.sleep(2)  # the readers are reading
        try:
            second, second_hook = build(db, Path(tmp) / "second", args.snapshots)
        finally:
            time.sleep(2)
            stop.touch()
            reports = [json.loads(r.communicate()[0]) for r in readers]
        versions = published.read_log(db)
        folder = published.versions_dir(db) / versions[-1]["version"]
        size = folder_bytes(folder)
        catalog = published.catalog_path(db).stat().st_size
        warehouse = db.stat().st_size

    errors = [e for r in reports for e in r["errors"]]
    print(f"  build with readers {second:.1f} s, of which publish {second_hook:.1f} s")
    print(
        f"  a published version: {size / 2**20:,.0f} MiB of Parquet + a {catalog / 2**10:,.0f} KiB"
        f" catalog (the warehouse file: {warehouse / 2**20:,.0f} MiB)"
    )
    print(
        f"  readers: {sum(r['reads'] for r in reports):,} reads, {len(errors)} errors,"
        f" blocked {sum(r['blocked'] for r in reports):.1f} s,"
        f" slowest read {max(r['slowest'] for r in reports):.2f} s,"
        f" versions seen {max(r['versions'] for r in reports)}"
    )
    if errors:
        print(f"  first error: {errors[0]}")


if __name__ == "__main__":
    main()
