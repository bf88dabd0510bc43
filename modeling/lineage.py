"""Lineage a training run records (docs/design.md, "Lineage"): which dbt build and which
feature definitions produced its data, the code version, the generator config."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd

from modeling.data import INVOCATION_COLUMN, connect_read_only
from modeling.errors import ModelingError
from modeling.manifest import Manifest


def git_commit() -> str:
    """HEAD's commit, with '-dirty' when tracked files changed; 'unknown' outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def data_invocation(frame: pd.DataFrame) -> str:
    ids = frame[INVOCATION_COLUMN].dropna().unique()
    if len(ids) != 1:
        raise ModelingError(f"the snapshot rows come from {len(ids)} dbt invocations, expected 1")
    return str(ids[0])


def check_invocation(manifest: Manifest, data_invocation_id: str, allow_stale: bool) -> bool:
    """True when the manifest describes the build that made the data. Otherwise stop,
    unless allowed (then the run is tagged stale)."""
    if manifest.invocation_id == data_invocation_id:
        return True
    if not allow_stale:
        raise ModelingError(
            f"the data was built by dbt invocation {data_invocation_id} but {manifest.path} "
            f"describes invocation {manifest.invocation_id}: rerun `dbt build`, point "
            "--manifest at the manifest of that build, or pass --allow-stale-manifest"
        )
    return False


def generator_config(db_path: Path) -> dict | None:
    """The synthetic generator's run config, when the warehouse was generated."""
    with connect_read_only(db_path) as con:
        found = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'generator' and table_name = 'run_config'"
        ).fetchone()[0]
        if not found:
            return None
        return json.loads(con.execute("select * from generator.run_config").fetchone()[0])


def lineage_tags(manifest: Manifest, invocation_id: str, fresh: bool) -> dict[str, str]:
    return {
        "dbt.manifest_sha256": manifest.sha256,
        "dbt.features_sha256": manifest.features_sha256(),
        "dbt.invocation_id": invocation_id,
        "dbt.manifest_invocation_id": manifest.invocation_id,
        "dbt.stale_manifest": str(not fresh).lower(),
        "git.commit": git_commit(),
    }
