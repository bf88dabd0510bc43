"""Training time per model on a ~1M-row training set, and scoring throughput.

Generates a shop, builds and publishes the marts with `dbt build` (monthly
snapshots over the data's span), then runs `python -m modeling.train` (every
model family) in its own process and reads each model's fit time from MLflow.
For scoring, the latest snapshot is replicated to --score-rows customers (and
republished) and `python -m modeling.score` scores it end to end (read,
predict, write).

    python benchmarks/bench_modeling.py                      # the recorded run
    python benchmarks/bench_modeling.py --customers 20000 --score-rows 100000
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import mlflow

sys.path.insert(0, str(Path(__file__).parent))
from _conditions import machine, run_measured  # noqa: E402

from modeling.lineage import warehouse_identity  # noqa: E402
from warehouse import published  # noqa: E402
from warehouse.database import all_or_nothing  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))


def replicate_latest_snapshot(db: Path, rows: int) -> int:
    """Copies of the latest snapshot's customers (new ids) until it has `rows` rows,
    published (scoring reads the published marts)."""
    with all_or_nothing(db) as con:
        latest = con.execute("select max(as_of) from marts.customer_snapshots").fetchone()[0]
        base = con.execute(
            "select count(*) from marts.customer_snapshots where as_of = ?", [latest]
        ).fetchone()[0]
        copies = -(-rows // base) - 1
        con.execute(
            "insert into marts.customer_snapshots select s.* replace"
            " (s.customer_id || '-copy' || t.copy as customer_id)"
            " from marts.customer_snapshots as s, range(1, ? + 1) as t(copy) where s.as_of = ?",
            [copies, latest],
        )
        published.republish(db, con, ["marts.customer_snapshots"])
        return base * (copies + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=180_000)  # ~1M training rows
    parser.add_argument("--score-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"modeling benchmark on {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = work / "warehouse.duckdb"
        env = {"CHURN_DB_PATH": str(db), "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
        run_measured(
            [sys.executable, "-m", "seeds_gen", "--customers", str(args.customers), "--quiet"],
            env=env,
        )
        target = work / "target"
        dbt = [DBT, "build", "--quiet", "--target-path", str(target), "--log-path", str(work)]
        run_measured(dbt, env=env, cwd=REPO)

        train = [sys.executable, "-m", "modeling.train", "--report", str(work / "report.html")]
        manifest = ["--manifest", str(target / "manifest.json")]
        train += manifest
        elapsed, peak, _ = run_measured(train, env=env, cwd=work)
        mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
        runs = mlflow.search_runs(experiment_names=[warehouse_identity(db).model_name])
        parent = runs[runs["tags.mlflow.parentRunId"].isna()].iloc[0]
        print(
            f"{args.customers:,} customers: train {int(parent['params.train_rows']):,} rows,"
            f" validation {int(parent['params.valid_rows']):,}, test"
            f" {int(parent['params.test_rows']):,}, {parent['params.features']} features"
        )
        children = runs[runs["tags.mlflow.parentRunId"].notna()]
        for _, run in children.sort_values("params.model").iterrows():
            print(
                f"  {run['params.model']:<20} fit {run['metrics.fit_seconds']:6.1f} s"
                f"   test PR AUC {run['metrics.test_pr_auc']:.3f}"
            )
        print(f"  whole `modeling.train` {elapsed:6.1f} s, peak RSS {peak:,.0f} MiB")

        rows = replicate_latest_snapshot(db, args.score_rows)
        elapsed, peak, out = run_measured(
            [sys.executable, "-m", "modeling.score", "--db", str(db), *manifest], env=env, cwd=work
        )
        inner = float(re.search(r" in ([\d.]+) s:", out).group(1))
        print(
            f"score {rows:,} customers: read+predict+write {inner:.1f} s"
            f" ({rows / inner * 60 / 1e6:.1f} M customers/min);"
            f" whole process {elapsed:.1f} s ({rows / elapsed * 60 / 1e6:.1f} M/min),"
            f" peak RSS {peak:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
