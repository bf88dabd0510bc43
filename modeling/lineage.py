"""Lineage a training run records (docs/design.md, "Lineage"): which dbt build and which
feature definitions produced its data, the code version, the generator config."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from modeling.data import BUILD_COLUMN, FEATURES_HASH_COLUMN, connect_read_only, table_columns
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


def single_value(frame: pd.DataFrame, column: str, what: str) -> str:
    values = frame[column].dropna().unique()
    if len(values) != 1:
        raise ModelingError(f"the snapshot rows carry {len(values)} {what}, expected 1")
    return str(values[0])


def data_lineage(frame: pd.DataFrame) -> tuple[str, str]:
    """(build id, features hash) of the rows: one of each, or a ModelingError."""
    build = single_value(frame, BUILD_COLUMN, "published build ids")
    return build, single_value(frame, FEATURES_HASH_COLUMN, "features hashes")


def check_features(manifest: Manifest, data_hash: str, allow_stale: bool) -> bool:
    """True when the data was built by the code and vars the manifest describes (the
    features hashes agree: harmless dbt commands since the build do not matter).
    Otherwise stop, unless allowed (then the run is tagged stale)."""
    manifest_hash = manifest.features_sha256()
    if manifest_hash == data_hash:
        return True
    if not allow_stale:
        raise ModelingError(
            f"the published data was built by other feature code or vars (features hash"
            f" {data_hash[:12]}) than {manifest.path} describes ({manifest_hash[:12]}):"
            " rerun `dbt build`, point --manifest at the manifest of that build, or pass"
            " --allow-stale-manifest"
        )
    return False


def generator_config(db_path: Path) -> dict | None:
    """The synthetic generator's run config, when the warehouse was generated (the
    published version carries it)."""
    with connect_read_only(db_path) as con:
        if not table_columns(con, "generator", "run_config"):
            return None
        return json.loads(con.execute("select * from generator.run_config").fetchone()[0])


IDENTITY_TABLE = "meta.warehouse_identity"  # source warehouse.warehouse_identity


@dataclass(frozen=True)
class WarehouseIdentity:
    """Which shop a warehouse is (created once by dbt, carried by every publish)."""

    id: str
    name: str

    @property
    def model_name(self) -> str:
        """The shop's default MLflow experiment and registered model name."""
        return f"churn-{self.name}-{self.id[:8]}"


def warehouse_identity(db_path: Path) -> WarehouseIdentity:
    """The identity the published marts of `db_path` carry (see read_identity)."""
    with connect_read_only(db_path) as con:
        return read_identity(con, db_path)


def read_identity(con: duckdb.DuckDBPyConnection, db_path: Path) -> WarehouseIdentity:
    """The identity on an open published-catalog connection; a ModelingError when the
    marts carry none (published before identities existed: a dbt build adds it)."""
    schema, table = IDENTITY_TABLE.split(".")
    row = None
    if table_columns(con, schema, table):
        row = con.execute(f"select warehouse_id, warehouse_name from {IDENTITY_TABLE}").fetchone()
    if row is None:
        raise ModelingError(
            f"the published marts of {db_path} carry no warehouse identity: run `dbt build`"
        )
    return WarehouseIdentity(id=str(row[0]), name=str(row[1]))


def lineage_tags(manifest: Manifest, build_id: str, data_hash: str, fresh: bool) -> dict[str, str]:
    return {
        "dbt.manifest_sha256": manifest.sha256,
        "dbt.features_sha256": manifest.features_sha256(),
        "dbt.data_features_sha256": data_hash,
        "dbt.build_id": build_id,
        "dbt.manifest_invocation_id": manifest.invocation_id,
        "dbt.stale_manifest": str(not fresh).lower(),
        "git.commit": git_commit(),
    }
