"""`python -m featurestore.spark`: build the feature store on Apache Spark.

dbt runs in this process on one local Spark session (docs/spark.md): the
session holds the catalog's metastore (one process at a time), the SQL
functions only Python has (churn_normalize_id) and the features hash of the
run's manifest, which the models stamp on every snapshot row.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import duckdb

from warehouse.cli import Parser
from warehouse.contract import REPO_ROOT
from warehouse.database import DB_PATH_ENV_VAR, DEFAULT_DB_PATH
from warehouse.lineage import features_sha256
from warehouse.spark import (
    LAST_BUILD_FILE,
    SparkUnavailable,
    export_raw,
    register_raw,
    session,
    spark_dir,
)

TARGET = "spark"
# dbt build flags that leave models or tests out: such a build is not complete.
SELECTING = {"--select", "-s", "--exclude", "--selector", "--models", "-m", "--resource-type"}
SELECTING |= {"--resource-types", "--exclude-resource-type", "--exclude-resource-types", "--empty"}


def dbt(args: list[str], target_path: Path) -> bool:
    """`dbt <args>` on the Spark target, in this process (on this session)."""
    from dbt.cli.main import dbtRunner

    common = ["--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT)]
    common += ["--target", TARGET, "--target-path", str(target_path)]
    common += ["--log-path", str(target_path / "logs")]
    result = dbtRunner().invoke([*args, *common])
    if result.exception is not None:  # a usage error dbt returns without printing it
        print(f"error: dbt {args[0]}: {str(result.exception).splitlines()[0]}", file=sys.stderr)
    return bool(result.success)


def parse_args(dbt_args: list[str]) -> list[str]:
    """The arguments of `dbt build` that change what is parsed: --vars (the shaping
    vars are part of the features hash)."""
    kept = []
    for i, arg in enumerate(dbt_args):
        if arg.startswith("--vars="):
            kept.append(arg)
        elif arg == "--vars" and i + 1 < len(dbt_args):
            kept += [arg, dbt_args[i + 1]]
    return kept


def build(folder: Path, dbt_args: list[str], target_path: Path, driver_memory: str) -> bool:
    """Parse, hash the manifest for the snapshot rows, then `dbt build <dbt_args>`;
    prints how long each phase took."""
    phases = {}
    started = time.monotonic()
    spark = session(folder, driver_memory)
    register_raw(spark, folder)
    phases["session"] = time.monotonic() - started
    os.environ.setdefault("CHURN_WAREHOUSE_NAME", folder.name)
    if not dbt(["parse", "--quiet", *parse_args(dbt_args)], target_path):
        return False
    sha = features_sha256(json.loads((target_path / "manifest.json").read_text()))
    spark.sql(f"create or replace temporary view churn_build as select '{sha}' as features_sha256")
    phases["parse"] = time.monotonic() - started - sum(phases.values())
    # The tables change from here on: until this build completes, no build is the
    # last complete one (training refuses to stamp rows with an older build's id).
    (folder / LAST_BUILD_FILE).unlink(missing_ok=True)
    if not dbt(["build", *dbt_args], target_path):
        return False
    phases["dbt build"] = time.monotonic() - started - sum(phases.values())
    built = features_sha256(json.loads((target_path / "manifest.json").read_text()))
    if built != sha:  # the build parsed something else than the parse: rows stamped wrong
        print(f"error: the build's manifest hashes to {built}, not {sha}", file=sys.stderr)
        return False
    if not SELECTING.intersection(arg.split("=")[0] for arg in dbt_args):  # a complete build
        results = json.loads((target_path / "run_results.json").read_text())
        record = {"build_id": results["metadata"]["invocation_id"], "features_sha256": sha}
        (folder / LAST_BUILD_FILE).write_text(json.dumps(record))
    print("spark build: " + ", ".join(f"{name} {s:.0f} s" for name, s in phases.items()))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = Parser(
        prog="python -m featurestore.spark",
        description=__doc__.splitlines()[0],
        epilog="Anything after -- goes to `dbt build` (e.g. -- --select customer_risk).",
    )
    parser.add_argument("command", choices=["build"], help="build: dbt build on Spark")
    parser.add_argument(
        "--spark-dir",
        type=Path,
        help="the local Spark warehouse folder (default: $CHURN_SPARK_DIR or data/spark)",
    )
    parser.add_argument(
        "--raw-from",
        type=Path,
        nargs="?",
        const=Path(os.environ.get(DB_PATH_ENV_VAR) or DEFAULT_DB_PATH),
        help="first copy the raw tables of this DuckDB warehouse (default: $CHURN_DB_PATH"
        " or data/warehouse.duckdb), written by the generator or the loader, to the"
        " Spark folder as Parquet",
    )
    parser.add_argument(
        "--driver-memory", default="4g", help="the Spark driver's heap, e.g. 12g (default 4g)"
    )
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    args, dbt_args = parser.parse_args(argv[:split]), argv[split + 1 :]
    folder = spark_dir(args.spark_dir)
    started = time.monotonic()
    try:
        if args.raw_from is not None:
            if not args.raw_from.is_file():
                print(f"error: --raw-from {args.raw_from}: no such warehouse file", file=sys.stderr)
                return 2
            counts = export_raw(args.raw_from, folder)
            print(
                f"raw tables copied to {folder / 'raw'} in {time.monotonic() - started:.0f} s:"
                f" {sum(counts.values()):,} rows"
            )
        ok = build(folder, dbt_args, folder / "target", args.driver_memory)
    except (SparkUnavailable, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except duckdb.Error as error:
        print(f"error: --raw-from {args.raw_from}: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: --spark-dir {folder}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(f"spark build {'done' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
