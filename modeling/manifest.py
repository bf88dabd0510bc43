"""What the modeling layer reads from dbt's manifest: the feature list and kinds
(column `meta`), the tables it writes (dbt sources), and the lineage hashes
docs/design.md asks every run to record."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from modeling.errors import ModelingError
from warehouse.lineage import features_sha256

SNAPSHOT_MODEL = "customer_snapshots"
DEFAULT_MANIFEST = Path("target/manifest.json")


@dataclass(frozen=True)
class FeatureSpec:
    """Columns of the snapshot mart by role, as declared in the dbt YAML."""

    id_column: str
    time_column: str
    label_column: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + self.categorical


@dataclass(frozen=True)
class TableSpec:
    """A table the dbt project declares as a source: where it is, its columns in order."""

    schema: str
    name: str
    columns: tuple[str, ...]

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


class Manifest:
    """A dbt manifest.json, read once."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.raw_bytes = self.path.read_bytes()
            self.data = json.loads(self.raw_bytes)
        except FileNotFoundError:
            raise ModelingError(f"no dbt manifest at {self.path}: run `dbt build` first") from None
        except OSError as error:  # a folder, no permission
            reason = error.strerror or error
            raise ModelingError(f"cannot read dbt manifest {self.path}: {reason}") from None
        except json.JSONDecodeError as error:
            raise ModelingError(f"dbt manifest {self.path} is not valid JSON ({error})") from None
        if not isinstance(self.data, dict) or not all(
            isinstance(self.data.get(key, {}), dict) for key in ("nodes", "sources", "macros")
        ):
            raise ModelingError(
                f"{self.path} is not a dbt manifest: point --manifest at the"
                " target/manifest.json of a `dbt build`"
            )
        self.nodes = {**self.data.get("nodes", {}), **self.data.get("sources", {})}

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw_bytes).hexdigest()

    @property
    def invocation_id(self) -> str:
        found = (self.data.get("metadata") or {}).get("invocation_id")
        if not isinstance(found, str):
            raise ModelingError(f"dbt manifest {self.path} has no metadata.invocation_id")
        return found

    def model(self, name: str = SNAPSHOT_MODEL) -> dict:
        for node in self.data.get("nodes", {}).values():
            if node["resource_type"] == "model" and node["name"] == name:
                return node
        raise ModelingError(f"dbt manifest {self.path} has no model named {name}")

    def source_table(self, source: str, table: str) -> TableSpec:
        """A source table's location and declared columns (e.g. the scores table)."""
        for node in self.data.get("sources", {}).values():
            if node["source_name"] == source and node["name"] == table:
                if not node["columns"]:
                    raise ModelingError(
                        f"dbt source {source}.{table} declares no columns ({self.path})"
                    )
                return TableSpec(node["schema"], node["identifier"], tuple(node["columns"]))
        raise ModelingError(f"dbt manifest {self.path} has no source {source}.{table}")

    def feature_spec(self, name: str = SNAPSHOT_MODEL) -> FeatureSpec:
        """Features and their kinds from column meta: the YAML is the single source."""
        columns = self.model(name)["columns"]

        def with_meta(**wanted: str) -> list[str]:
            return [
                column
                for column, spec in columns.items()
                if all(spec.get("meta", {}).get(k) == v for k, v in wanted.items())
            ]

        def single(role: str) -> str:
            found = with_meta(role=role)
            if len(found) != 1:
                raise ModelingError(
                    f"model {name} must have exactly one column with meta role '{role}', "
                    f"found {found or 'none'}"
                )
            return found[0]

        numeric = with_meta(role="feature", kind="numeric")
        categorical = with_meta(role="feature", kind="categorical")
        if not numeric + categorical:
            raise ModelingError(f"model {name} declares no feature columns in its YAML meta")
        return FeatureSpec(
            id_column=single("id"),
            time_column=single("time"),
            label_column=single("label"),
            numeric=tuple(numeric),
            categorical=tuple(categorical),
        )

    def column_types(self, name: str = SNAPSHOT_MODEL) -> dict[str, str]:
        """Each column's contract type (`data_type` in the YAML), lower case."""
        columns = self.model(name)["columns"]
        return {c: str(spec.get("data_type") or "").lower() for c, spec in columns.items()}

    def features_sha256(self, name: str = SNAPSHOT_MODEL) -> str:
        """The features hash of the mart (warehouse.lineage): what the dbt build also
        stamps on every row, so data and manifest can be compared."""
        self.model(name)  # a ModelingError naming the model when it is missing
        return features_sha256(self.data, name)
