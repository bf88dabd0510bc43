"""dbt-duckdb plugin of the feature store (profiles.yml `plugins:`).

- Holds the warehouse's writer lock for the whole dbt run, so a second build,
  a load or a scoring run waits for this one instead of failing on DuckDB's
  file lock (warehouse.lock).
- Gives the models and hooks what only Python can do, as SQL functions:
  `churn_features_sha256()` (the features hash of this run's manifest, stamped
  on every snapshot row), `churn_new_version_dir(build_id)` and
  `churn_publish(spec)` (the on-run-end publish of the marts,
  warehouse.published), `churn_published_partitions(relation, build_id)`
  (what an incremental publish can link instead of writing).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from warehouse import published
from warehouse.lineage import features_sha256
from warehouse.lock import hold_for_process


@cache
def _run_manifest() -> dict:
    """This run's manifest: dbt writes it after parsing, before any hook or model."""
    from dbt.flags import get_flags

    flags = get_flags()
    project = Path(getattr(flags, "PROJECT_DIR", None) or ".")
    target = Path(getattr(flags, "TARGET_PATH", None) or "target")
    return json.loads(
        ((target if target.is_absolute() else project / target) / "manifest.json").read_text()
    )


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        # Absolute: the published views name their Parquet files by this path, and
        # DuckDB resolves a relative one against each reader's working directory.
        self.db_path = Path(self.creds.path).resolve() if self.creds and self.creds.path else None
        if self.db_path is not None:
            hold_for_process(self.db_path)

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        conn.create_function("churn_features_sha256", self.features_sha256, [], "VARCHAR")
        conn.create_function("churn_new_version_dir", self.new_version_dir, ["VARCHAR"], "VARCHAR")
        conn.create_function("churn_publish", self.publish, ["VARCHAR"], "VARCHAR")
        conn.create_function(
            "churn_published_partitions", self.published_partitions, ["VARCHAR"] * 2, "VARCHAR"
        )

    def features_sha256(self) -> str:
        return features_sha256(_run_manifest())

    def new_version_dir(self, build_id: str) -> str:
        return str(published.new_version_dir(self.db_path, build_id))

    def published_partitions(self, relation: str, build_id: str) -> str:
        """The published partitions of `relation` if `build_id` built them, as JSON."""
        return json.dumps(published.published_partitions(self.db_path, relation, build_id))

    def publish(self, spec: str) -> str:
        """Write the catalog of one version from the macro's spec and swap it in."""
        return str(published.publish_version(self.db_path, json.loads(spec)))
