"""Run dbt against a test warehouse, with its artifacts kept apart from the repo's."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from warehouse.published import catalog_path, versions_dir

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))


# Parses dbt made in this session, by project, warehouse file name and vars. dbt runs
# in the warehouse's folder with the file name as its path, so every warehouse of one
# name has the same profile and a new target folder can start from an earlier
# parse: dbt's partial parsing re-reads what changed and rejects a parse whose
# profile, vars or dbt version differ (a full parse costs ~13 s, a partial one ~5 s).
# The plugin resolves the relative path, so published views still name absolute files.
PARSES = Path(tempfile.mkdtemp(prefix="dbt-parses-"))
PARSE_FILE = "partial_parse.msgpack"


def run_dbt(
    args: list[str],
    db: Path,
    target: Path,
    vars_: dict | None = None,
    check: bool = True,
    project: Path = REPO,
) -> subprocess.CompletedProcess:
    """`dbt <args>` in `project` (the repo root) on the warehouse `db`; artifacts go to `target`."""
    cmd = [DBT, *args, "--project-dir", str(project), "--profiles-dir", str(project)]
    cmd += ["--target-path", str(target), "--log-path", str(target / "logs")]
    if vars_:
        cmd += ["--vars", json.dumps(vars_)]  # JSON is YAML, and quotes inside values survive
    key = hashlib.sha256(json.dumps([str(project), db.name, vars_]).encode()).hexdigest()
    cached, parse = PARSES / key, target / PARSE_FILE
    if cached.exists() and not parse.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, parse)
    env = {**os.environ, "CHURN_DB_PATH": db.name, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run(cmd, cwd=db.parent, env=env, capture_output=True, text=True)
    if parse.exists() and not cached.exists():
        shutil.copyfile(parse, cached)
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
