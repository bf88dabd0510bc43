"""Generator throughput: events per second and peak memory at several sizes.

Each size runs `python -m seeds_gen` in a fresh process (so its peak memory is
its own) and prints one line: customers, raw rows, wall time, rows/s, peak RSS.

    python benchmarks/bench_generator.py            # 100k and 1M customers
    python benchmarks/bench_generator.py 20000      # custom sizes
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from _conditions import machine, run_measured  # noqa: E402


def run(customers: int, workdir: Path) -> None:
    db = workdir / f"gen_{customers}.duckdb"
    cmd = [sys.executable, "-m", "seeds_gen", "--customers", str(customers), "--db", str(db)]
    elapsed, peak_mib, _ = run_measured([*cmd, "--overwrite", "--quiet"])
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select sum(estimated_size) from duckdb_tables() where schema_name = 'raw'"
        ).fetchone()[0]
        events = rows - con.execute("select count(*) from raw.customers").fetchone()[0]
    print(
        f"{customers:>10,} customers  {events:>12,} events  {elapsed:7.1f} s"
        f"  {events / elapsed / 1e6:5.2f} M events/s  peak RSS {peak_mib:,.0f} MiB"
    )
    db.unlink()


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]
    print(f"generator benchmark on {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        for customers in sizes:
            run(customers, Path(tmp))


if __name__ == "__main__":
    main()
