"""The mapping file of the export loader: how a shop's export files become the
raw contract (`warehouse.contract.RAW_TABLES`).

    timezone: Europe/Berlin          # of naive timestamps in the files (default UTC)
    sources:
      orders:                        # a raw table; only orders is required
        file: orders.csv             # CSV or Parquet, relative to this file
        columns:                     # contract column: column in the file
          order_id: Order Number     # (a contract column not listed is read from a
          customer_id: Customer      #  file column of the same name, if any)
          ordered_at: Created
          status: State
          order_value: Total
        constants: {discount_amount: 0, item_count: 1}   # columns the export lacks
        timestamp_format: "%d/%m/%Y %H:%M"               # strptime; default ISO 8601
        amount_divisor: 100                              # e.g. amounts in cents
        currency: {column: Currency, rates: {EUR: 1.0, GBP: 1.17}}
        values:                      # category values -> contract values
          status: {completed: [shipped, delivered], cancelled: [voided], returned: [refunded]}
        csv: {delimiter: ";", decimal_separator: ","}

Documented with an example in examples/ and the README ("Use your own data").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from warehouse.contract import (
    ACCEPTED_VALUES,
    ID_COLUMN,
    LOADED_AT_COLUMN,
    RAW_TABLES,
    REQUIRED_RAW_TABLES,
)

# Columns that may change between two exports of the same event (an order later
# returned): left out of a derived id so the event keeps its id.
MUTABLE_COLUMNS = {"status"}
MONEY_COLUMNS = {"order_value", "discount_amount"}
# Contract columns an export may lack entirely: event ids are derived from the
# row's content, and a customers table's attributes are unknown ('unknown' in staging).
OPTIONAL_COLUMNS = {ID_COLUMN[t] for t in RAW_TABLES if t != "customers"} | {
    "segment",
    "acquisition_channel",
    "country",
    "order_id",  # reviews.order_id
}
SOURCE_KEYS = {
    "file",
    "columns",
    "constants",
    "timestamp_format",
    "amount_divisor",
    "currency",
    "values",
    "csv",
}


class MappingError(Exception):
    """The mapping file is wrong (one line, names the file and the key)."""


@dataclass(frozen=True)
class SourceMapping:
    table: str
    file: Path
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, object] = field(default_factory=dict)
    timestamp_format: str | None = None
    amount_divisor: float = 1.0
    currency_column: str | None = None
    currency_rates: dict[str, float] = field(default_factory=dict)
    values: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    delimiter: str | None = None
    decimal_separator: str = "."


@dataclass(frozen=True)
class Mapping:
    path: Path
    timezone: str
    sources: dict[str, SourceMapping]


def _fail(path: Path, where: str, message: str) -> MappingError:
    return MappingError(f"{path}: {where}: {message}")


def _source(path: Path, table: str, raw: object) -> SourceMapping:
    where = f"sources.{table}"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping with at least `file`")
    unknown = set(raw) - SOURCE_KEYS
    if unknown:
        raise _fail(path, where, f"unknown keys {sorted(unknown)} (known: {sorted(SOURCE_KEYS)})")
    if "file" not in raw:
        raise _fail(path, where, "needs `file` (a CSV or Parquet export)")
    mappable = [c for c in RAW_TABLES[table] if c != LOADED_AT_COLUMN]
    columns = {str(k): str(v) for k, v in (raw.get("columns") or {}).items()}
    constants = dict(raw.get("constants") or {})
    for key, names in (("columns", columns), ("constants", constants)):
        wrong = [c for c in names if c not in mappable]
        if wrong:
            raise _fail(
                path,
                f"{where}.{key}",
                f"{wrong} are not columns of raw.{table} (columns: {', '.join(mappable)})",
            )
    values = raw.get("values") or {}
    for column, groups in values.items():
        allowed = ACCEPTED_VALUES.get(table, {}).get(column)
        if allowed is None:
            raise _fail(path, f"{where}.values", f"{column!r} is not a category of raw.{table}")
        wrong = [v for v in groups if v not in allowed]
        if wrong:
            raise _fail(path, f"{where}.values.{column}", f"{wrong} not in {list(allowed)}")
    currency = raw.get("currency") or {}
    if currency and not (
        isinstance(currency, dict) and currency.get("column") and currency.get("rates")
    ):
        raise _fail(path, f"{where}.currency", "needs `column` and `rates` ({CODE: rate, ...})")
    csv = raw.get("csv") or {}
    divisor = float(raw.get("amount_divisor", 1))
    if divisor <= 0:
        raise _fail(path, f"{where}.amount_divisor", "must be positive")
    return SourceMapping(
        table=table,
        file=(path.parent / str(raw["file"])),
        columns=columns,
        constants=constants,
        timestamp_format=raw.get("timestamp_format"),
        amount_divisor=divisor,
        currency_column=currency.get("column"),
        currency_rates={str(k).upper(): float(v) for k, v in (currency.get("rates") or {}).items()},
        values={c: {k: [str(v) for v in vs] for k, vs in g.items()} for c, g in values.items()},
        delimiter=csv.get("delimiter"),
        decimal_separator=str(csv.get("decimal_separator", ".")),
    )


def read_mapping(path: Path, files: dict[str, Path] | None = None) -> Mapping:
    """Parse and check a mapping file; `files` overrides sources' files (a later export)."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise MappingError(f"cannot read mapping {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("sources"), dict):
        raise MappingError(f"{path}: needs a `sources:` mapping of raw tables to export files")
    unknown = set(raw["sources"]) - set(RAW_TABLES)
    if unknown:
        raise _fail(
            path, "sources", f"unknown tables {sorted(unknown)} (known: {list(RAW_TABLES)})"
        )
    for table in REQUIRED_RAW_TABLES:
        if table not in raw["sources"]:
            raise _fail(path, "sources", f"`{table}` is required")
    sources = {t: _source(path, t, spec) for t, spec in raw["sources"].items()}
    for table, file in (files or {}).items():
        if table not in sources:
            raise MappingError(f"--file {table}=...: the mapping has no source `{table}`")
        sources[table] = replace(sources[table], file=file)
    return Mapping(path=path, timezone=str(raw.get("timezone", "UTC")), sources=sources)
