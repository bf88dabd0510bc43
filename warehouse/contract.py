"""The raw contract, read from the dbt project: the one definition, no Python copy.

- tables, their columns in order and their types: the `shop` source in
  dbt_project/models/staging/shop/_shop__sources.yml (`data_type` per column;
  `config.meta` names each table's id and event-time columns and whether a shop
  must export it);
- accepted category values and quarantine reasons: the `accepted_values` and
  `reject_reasons` vars of the root dbt_project.yml.

The generator and the loader write what staging reads, so both read the
contract from where staging declares it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_FILE = REPO_ROOT / "dbt_project.yml"
SOURCES_FILE = REPO_ROOT / "dbt_project/models/staging/shop/_shop__sources.yml"
SOURCE_NAME = "shop"


class ContractError(Exception):
    """The dbt project's contract files are missing or do not say what is needed."""


@cache
def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from the dbt project, read once per process."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ContractError(
            f"raw contract file not found: {path} (warehouse.contract reads the dbt project;"
            " install the project from its checkout with `pip install -e .`)"
        ) from None
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ContractError(f"{path}: expected a YAML mapping")
    return data


def _require(container: dict[str, Any], key: str, where: str, path: Path) -> Any:
    if key not in container:
        raise ContractError(f"{path}: {where} has no `{key}`")
    return container[key]


def shop_source(path: Path = SOURCES_FILE) -> dict[str, Any]:
    """The `shop` source block of the sources YAML."""
    for source in _require(read_yaml(path), "sources", "the file", path):
        if source.get("name") == SOURCE_NAME:
            return source
    raise ContractError(f"{path}: no source named {SOURCE_NAME!r}")


def raw_tables(source: dict[str, Any], path: Path = SOURCES_FILE) -> dict[str, dict[str, Any]]:
    """Table -> {"columns": {column: DUCKDB TYPE}, "meta": {...}}, in the YAML's order."""
    tables = {}
    for table in _require(source, "tables", f"source {SOURCE_NAME}", path):
        name = table["name"]
        where = f"table {name}"
        meta = _require(table.get("config") or {}, "meta", f"{where} config", path)
        columns = {
            column["name"]: str(_require(column, "data_type", f"{where} column", path)).upper()
            for column in _require(table, "columns", where, path)
        }
        for key in ("id_column", "event_time_column"):
            if _require(meta, key, f"{where} config.meta", path) not in columns:
                raise ContractError(f"{path}: {where}: meta {key} {meta[key]!r} is not a column")
        _require(meta, "required", f"{where} config.meta", path)
        tables[name] = {"columns": columns, "meta": meta}
    return tables


def project_var(name: str, path: Path = DBT_PROJECT_FILE) -> Any:
    """One of the root dbt_project.yml's vars."""
    return _require(_require(read_yaml(path), "vars", "the file", path), name, "vars", path)


_SOURCE = shop_source()
_TABLES = raw_tables(_SOURCE)

RAW_SCHEMA: str = _require(_SOURCE, "schema", f"source {SOURCE_NAME}", SOURCES_FILE)
# Every row of every raw table carries it: the time the row reached the warehouse,
# which the feature store uses for point-in-time correctness.
LOADED_AT_COLUMN: str = _require(_SOURCE, "loaded_at_field", f"source {SOURCE_NAME}", SOURCES_FILE)
# Table -> {column: DuckDB type}, columns in contract order.
RAW_TABLES: dict[str, dict[str, str]] = {t: spec["columns"] for t, spec in _TABLES.items()}
ID_COLUMN: dict[str, str] = {t: spec["meta"]["id_column"] for t, spec in _TABLES.items()}
# The time each row describes (for customers: sign-up).
EVENT_TIME_COLUMN: dict[str, str] = {
    t: spec["meta"]["event_time_column"] for t, spec in _TABLES.items()
}
# Tables a shop must export; every other source is optional (may be empty).
REQUIRED_RAW_TABLES: tuple[str, ...] = tuple(t for t, s in _TABLES.items() if s["meta"]["required"])
# Raw table -> category column -> the values staging accepts (anything else is
# quarantined as unknown_category, after lower-casing).
ACCEPTED_VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    table: {column: tuple(values) for column, values in columns.items()}
    for table, columns in project_var("accepted_values").items()
}
# Every reason staging can quarantine a raw row with.
REJECT_REASONS: tuple[str, ...] = tuple(project_var("reject_reasons"))
