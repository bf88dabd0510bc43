"""`dbt build` of two revisions of the dbt project, back to back on one warehouse.

A change that must not slow the feature store down is measured against the
revision before it in the same run, alternating the two so that machine noise
hits both alike. Each build starts from a copy of the same freshly generated
raw warehouse; the dbt project of each revision comes from `git worktree`
(the Python environment is the current one).

    python benchmarks/bench_compare_revisions.py --base ec3e1aa --customers 100000
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _conditions import machine, run_measured  # noqa: E402
from bench_dbt import snapshot_vars  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))


def checkout(revision: str, into: Path) -> Path:
    """The repository at `revision` in a detached worktree (removed by the caller)."""
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--force", str(into), revision],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return into


def build_seconds(project: Path, raw: Path, work: Path, snapshots: int) -> tuple[float, float]:
    db = work / "build.duckdb"
    shutil.copyfile(raw, db)
    target = work / "target"
    shutil.rmtree(target, ignore_errors=True)
    cmd = [DBT, "build", "--quiet", "--vars", snapshot_vars(snapshots)]
    cmd += ["--target-path", str(target), "--log-path", str(target / "logs")]
    elapsed, peak, _ = run_measured(cmd, env={"CHURN_DB_PATH": str(db)}, cwd=project)
    db.unlink()
    # What a publishing revision published next to it (warehouse.published).
    (work / "build.marts.duckdb").unlink(missing_ok=True)
    shutil.rmtree(work / "build.marts", ignore_errors=True)
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="revision to compare with (e.g. a commit)")
    parser.add_argument("--head", default=None, help="revision to measure (default: work tree)")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--snapshots", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3, help="builds of each, alternating")
    parser.add_argument(
        "--dirty-rate",
        default="0.01",
        help="bad rows generated (0 when the base cannot build the generator's newer defects)",
    )
    args = parser.parse_args()
    print(
        f"dbt build, {args.base} vs {args.head or 'work tree'}: {args.customers:,} customers,"
        f" {args.snapshots} monthly snapshots, dirty rate {args.dirty_rate}, {args.rounds} rounds,"
        f" on {machine()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        raw = work / "landed.duckdb"  # not raw.duckdb: a catalog named like a schema is ambiguous
        generate = [sys.executable, "-m", "seeds_gen", "--customers", str(args.customers)]
        run_measured([*generate, "--db", str(raw), "--dirty-rate", args.dirty_rate, "--quiet"])
        projects = {"base": checkout(args.base, work / "base")}
        projects["head"] = checkout(args.head, work / "head") if args.head else REPO
        times: dict[str, list[float]] = {"base": [], "head": []}
        peaks: dict[str, list[float]] = {"base": [], "head": []}
        try:
            for round_ in range(args.rounds):
                for name in ("base", "head") if round_ % 2 == 0 else ("head", "base"):
                    elapsed, peak = build_seconds(projects[name], raw, work, args.snapshots)
                    times[name].append(elapsed)
                    peaks[name].append(peak)
                    print(f"  round {round_ + 1} {name}: {elapsed:6.1f} s, peak {peak:,.0f} MiB")
        finally:
            for project in projects.values():
                if project != REPO:
                    subprocess.run(
                        ["git", "worktree", "remove", "--force", str(project)],
                        cwd=REPO,
                        capture_output=True,
                    )
    base, head = statistics.median(times["base"]), statistics.median(times["head"])
    print(
        f"median: base {base:.1f} s (peak {max(peaks['base']):,.0f} MiB),"
        f" head {head:.1f} s (peak {max(peaks['head']):,.0f} MiB), head/base {head / base:.3f}"
    )


if __name__ == "__main__":
    main()
