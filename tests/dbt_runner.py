"""Run dbt against a test warehouse, with its artifacts kept apart from the repo's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from warehouse.published import catalog_path, versions_dir

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))


def run_dbt(
    args: list[str],
    db: Path,
    target: Path,
    vars_: dict | None = None,
    check: bool = True,
    project: Path = REPO,
) -> subprocess.CompletedProcess:
    """`dbt <args>` in `project` (the repo root) on the warehouse `db`; artifacts go to `target`."""
    cmd = [DBT, *args, "--target-path", str(target), "--log-path", str(target / "logs")]
    if vars_:
        cmd += ["--vars", json.dumps(vars_)]  # JSON is YAML, and quotes inside values survive
    env = {**os.environ, "CHURN_DB_PATH": str(db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-4000:]}")
    return result


def copy_warehouse(source: Path, destination: Path) -> Path:
    """A copy of the warehouse file and of its published catalog (whose views keep
    reading the source's Parquet files: they are never changed, only added)."""
    shutil.copyfile(source, destination)
    if catalog_path(source).exists():
        shutil.copyfile(catalog_path(source), catalog_path(destination))
        shutil.copytree(versions_dir(source), versions_dir(destination), dirs_exist_ok=True)
    return destination


def copy_project(destination: Path) -> Path:
    """A copy of the dbt project (root files and dbt_project/) that a test may edit."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(REPO / name, destination / name)
    shutil.copytree(
        REPO / "dbt_project", destination / "dbt_project", ignore=shutil.ignore_patterns("target")
    )
    return destination
